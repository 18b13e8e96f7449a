/* sdp_build.c - placeholder, being written */
