# The README's "Debugging with gdb" walkthrough, command for command (tests/gdb/walkthrough.test.ts).
break find_item if id == 199
continue
bt
finish
print &items[8]
watch total
continue
print/x $eax
info symbol $eax
x/2i 0x100dc0
monitor info tb 0x100dc3
monitor info tb
delete
continue
