/* method.c - placeholder, being written */
