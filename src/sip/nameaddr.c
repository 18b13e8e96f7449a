/* nameaddr.c - placeholder, being written */
