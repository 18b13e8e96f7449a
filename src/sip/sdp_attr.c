/* sdp_attr.c - placeholder, being written */
