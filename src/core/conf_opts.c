/* conf_opts.c - placeholder, being written */
