/* htab.c - placeholder, being written */
