"""Getting the datasets: fetch (sources), find images and labels (layout), arrays on disk (store)."""
