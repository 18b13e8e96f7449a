/* via.c - placeholder, being written */
