/* loop_epoll.c - placeholder, being written */
