/* uri.c - placeholder, being written */
