"""What the released model reads in one picture: the faces, and each one's perceived expression."""
