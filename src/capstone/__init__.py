"""Show Me The Money: perceived facial-expression analytics for sales calls."""
