handle SIGALRM nostop noprint pass
handle SIGCHLD nostop noprint pass
