#include <stdio.h>
int main (void);
int main (void) { puts ("agentrun"); return 0; }
