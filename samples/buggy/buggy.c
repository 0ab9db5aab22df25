/*
 * buggy: a small order-processing program with a wild-pointer bug, built
 * with -O0 -g for gdb practice. See samples/README.md for the walkthrough
 * material (spoiler: find_item).
 *
 * A price list of NITEMS items is filled in, then a list of orders is
 * processed: every order adds qty to its item's "sold" counter and
 * qty * price to the global revenue "total". One order names an item that
 * is not in the price list.
 */
#include "lib.h"

#define NITEMS 8

struct item {
    int sold;   /* units sold so far */
    int price;  /* cents per unit */
    int id;     /* catalogue number */
};

struct order {
    int id;
    int qty;
};

/* Built with -fno-toplevel-reorder: these globals are laid out in this order. */
struct item items[NITEMS];
int total;       /* revenue in cents */
int total_qty;   /* units sold */
int orders_done;

static const struct order orders[] = {
    { 101, 3 }, { 102, 1 }, { 105, 2 }, { 103, 4 },
    { 108, 1 }, { 107, 5 }, { 199, 2 }, { 104, 1 },
    { 106, 3 }, { 102, 2 },
};
#define NORDERS ((int)(sizeof(orders) / sizeof(orders[0])))

void fill_items(void)
{
    int i;
    for (i = 0; i < NITEMS; i++) {
        items[i].id = 101 + i;
        items[i].price = 250 + 125 * i;
        items[i].sold = 0;
    }
}

/* Look up an item by catalogue number. */
struct item *find_item(int id)
{
    int i;
    for (i = 0; i < NITEMS; i++) {
        if (items[i].id == id)
            break;
    }
    return &items[i];   /* BUG: &items[NITEMS] when id is unknown */
}

void apply_order(const struct order *o)
{
    struct item *it = find_item(o->id);
    it->sold += o->qty;
    total += o->qty * it->price;
    total_qty += o->qty;
}

void process_orders(void)
{
    int n;
    for (n = 0; n < NORDERS; n++) {
        apply_order(&orders[n]);
        orders_done++;
    }
}

/* What the total should be: unknown items are simply skipped. */
int expected_total(void)
{
    int n, i, sum = 0;
    for (n = 0; n < NORDERS; n++) {
        for (i = 0; i < NITEMS; i++) {
            if (101 + i == orders[n].id)
                sum += orders[n].qty * (250 + 125 * i);
        }
    }
    return sum;
}

int main(void)
{
    int expected;

    fill_items();
    process_orders();
    expected = expected_total();
    kprintf("buggy: %d orders, %d units\n", orders_done, total_qty);
    kprintf("buggy: sum = %d (expected %d)\n", total, expected);
    if (total != expected) {
        dbg_puts("buggy: wrong sum\n");
        exit_qemu(1);
    }
    dbg_puts("buggy: ok\n");
    exit_qemu(0);
    return 0;
}
