# The same session against QEMU's gdb stub and against bmbt-dbg (tests/gdb/qemu-compare.test.ts).
# QEMU starts at the BIOS reset vector and bmbt-dbg at the kernel entry, so the script
# begins with a breakpoint on main; from there both must end in the same state.
set pagination off
set confirm off
break main
continue
delete
# The loaders put the multiboot information at different addresses (QEMU 0x9500,
# bmbt-dbg 0x9000); _start left that pointer in ebx and in mb_info. Make them equal.
set $ebx = 0x9000
set var *(int *) &mb_info = 0x9000
stepi 12
set $eax = 0x1234
set $ecx = $eax + 1
stepi 3
break find_item if id == 199
continue
finish
delete
watch total
continue
delete
rwatch total_qty
continue
delete
awatch orders_done
continue
continue
delete
set var orders_done = orders_done + 100
hbreak expected_total
continue
delete
stepi 7
finish
printf "REGS %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x\n", $eax, $ecx, $edx, $ebx, $esp, $ebp, $esi, $edi, $eip, $eflags
printf "SEGS %x %x %x %x %x %x\n", $cs, $ss, $ds, $es, $fs, $gs
printf "CRS %08x %08x %08x %08x\n", $cr0, $cr2, $cr3, $cr4
x/28xw &items
x/16xw $esp
bt
