# The README's "Time travel" walkthrough, command for command (tests/gdb/time-travel.test.ts).
break expected_total
continue
watch total
reverse-continue
reverse-continue
reverse-continue
reverse-continue
reverse-continue
print *o
print it
monitor savevm before-the-bug
monitor info snapshots
delete
continue
