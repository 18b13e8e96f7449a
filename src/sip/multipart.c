/* multipart.c - placeholder, being written */
