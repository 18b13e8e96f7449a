/* tmr.c - placeholder, being written */
