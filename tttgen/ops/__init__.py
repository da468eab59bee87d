"""Op kinds: the one place each kind of op a module description may use is declared."""
