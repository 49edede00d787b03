"""Channel-neutral replies and what they show: findings, /how, the note, the ladder picture, the first screen."""
