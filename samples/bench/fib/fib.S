/*
 * u32 fib(u32 n): naive doubly recursive Fibonacci, cdecl, written in
 * assembly so that the compiler cannot turn the recursion into a loop.
 * An inner call runs 17 instructions, a leaf (n < 2) 4.
 */
    .text
    .code32
    .globl fib
    .type fib, @function
fib:
    movl 4(%esp), %eax
    cmpl $2, %eax
    jb 1f
    pushl %ebx
    pushl %esi
    movl %eax, %esi
    leal -1(%eax), %eax
    pushl %eax
    call fib                    /* fib(n - 1) */
    movl %eax, %ebx
    leal -2(%esi), %eax
    movl %eax, (%esp)
    call fib                    /* fib(n - 2) */
    addl $4, %esp
    addl %ebx, %eax
    popl %esi
    popl %ebx
1:  ret
    .size fib, . - fib
