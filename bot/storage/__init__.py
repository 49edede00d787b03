"""Everything that touches the SQLite log: the store and its migrations, scores, retention, backup, encryption, files."""
