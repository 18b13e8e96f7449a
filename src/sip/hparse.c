/* hparse.c - placeholder, being written */
