/* params.c - placeholder, being written */
