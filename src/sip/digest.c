/* digest.c - placeholder, being written */
