/* build.c - placeholder, being written */
