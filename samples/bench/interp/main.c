/*
 * bench interp: a switch-dispatched bytecode interpreter (a small stack
 * machine with 8 registers) running a bytecode loop of 22 operations for
 * 1,500,000 iterations: an LCG step, a hash update and a counted branch.
 * Indirect jumps through the switch's jump table dominate.
 */
#include "lib.h"

enum {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_XOR,
    OP_AND, OP_SHL, OP_SHR, OP_DUP, OP_DROP, OP_SWAP, OP_JNZ, OP_JMP,
};

#define I32(v) (u8)(v), (u8)((v) >> 8), (u8)((v) >> 16), (u8)((v) >> 24)

#define ITERATIONS 1500000u

static const u8 program[] = {
    /* 0 */  OP_PUSH, I32(ITERATIONS), OP_STORE, 0,    /* r0 = iterations */
    /* 7 */  OP_PUSH, I32(12345u), OP_STORE, 1,        /* r1 = seed */
    /* 14 */ OP_PUSH, I32(0x9e3779b9u), OP_STORE, 2,   /* r2 = hash */
    /* loop: 21 */
    OP_LOAD, 1, OP_PUSH, I32(1103515245u), OP_MUL,
    OP_PUSH, I32(12345u), OP_ADD, OP_DUP, OP_STORE, 1, /* r1 = r1 * a + c */
    OP_SHR, 16, OP_LOAD, 2, OP_XOR,                    /* (r1 >> 16) ^ r2 */
    OP_LOAD, 2, OP_SHL, 5, OP_ADD, OP_STORE, 2,        /* r2 = that + (r2 << 5) */
    OP_LOAD, 0, OP_PUSH, I32(1u), OP_SUB, OP_DUP, OP_STORE, 0,
    OP_JNZ, 21, 0,                                     /* while (--r0) */
    OP_LOAD, 1, OP_LOAD, 2, OP_SWAP, OP_DROP,          /* leaves r2 */
    OP_HALT,
};

static u32 run(const u8 *code)
{
    u32 stack[64];
    u32 reg[8];
    u32 sp = 0;
    const u8 *pc = code;
    for (;;) {
        u8 op = *pc++;
        switch (op) {
        case OP_HALT:
            return sp ? stack[sp - 1] : 0;
        case OP_PUSH:
            stack[sp++] = (u32)pc[0] | (u32)pc[1] << 8 | (u32)pc[2] << 16 | (u32)pc[3] << 24;
            pc += 4;
            break;
        case OP_LOAD:
            stack[sp++] = reg[*pc++ & 7];
            break;
        case OP_STORE:
            reg[*pc++ & 7] = stack[--sp];
            break;
        case OP_ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case OP_SUB:
            sp--;
            stack[sp - 1] -= stack[sp];
            break;
        case OP_MUL:
            sp--;
            stack[sp - 1] *= stack[sp];
            break;
        case OP_XOR:
            sp--;
            stack[sp - 1] ^= stack[sp];
            break;
        case OP_AND:
            sp--;
            stack[sp - 1] &= stack[sp];
            break;
        case OP_SHL:
            stack[sp - 1] <<= *pc++ & 31;
            break;
        case OP_SHR:
            stack[sp - 1] >>= *pc++ & 31;
            break;
        case OP_DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case OP_DROP:
            sp--;
            break;
        case OP_SWAP: {
            u32 t = stack[sp - 1];
            stack[sp - 1] = stack[sp - 2];
            stack[sp - 2] = t;
            break;
        }
        case OP_JNZ: {
            u32 target = (u32)pc[0] | (u32)pc[1] << 8;
            pc += 2;
            if (stack[--sp])
                pc = code + target;
            break;
        }
        case OP_JMP:
            pc = code + ((u32)pc[0] | (u32)pc[1] << 8);
            break;
        default:
            kprintf("interp: bad opcode %u at %u\n", op, (u32)(pc - 1 - code));
            exit_qemu(1);
        }
        sp &= 63;
    }
}

int main(void)
{
    dbg_puts("interp: start\n");
    u32 r = run(program);
    kprintf("interp: result %08x\n", r);
    dbg_puts("interp: done\n");
    exit_qemu(0);
}
