/* sdp.c - placeholder, being written */
