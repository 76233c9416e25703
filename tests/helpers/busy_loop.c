// st-busy-loop [MARKER]: spins forever without a single syscall. The marker only tags argv.
int main(void) {
  for (;;) __asm__ volatile("pause");
}
