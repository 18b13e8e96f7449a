/* conf_yaml.c - placeholder, being written */
