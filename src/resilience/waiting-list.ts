/**
 * A first-in, first-out list that can also drop any member in constant time: the
 * admission queue's waiting requests leave from the front when they get a slot and
 * from anywhere when their deadline passes or their caller gives up.
 */

export interface WaitingNode<T> {
  readonly value: T;
  previous: WaitingNode<T> | undefined;
  next: WaitingNode<T> | undefined;
  /** False once the node has left its list, so a second removal is harmless. */
  linked: boolean;
}

export class WaitingList<T> {
  private head: WaitingNode<T> | undefined;
  private tail: WaitingNode<T> | undefined;
  private count = 0;

  get length(): number {
    return this.count;
  }

  pushBack(value: T): WaitingNode<T> {
    const node: WaitingNode<T> = { value, previous: this.tail, next: undefined, linked: true };
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.count += 1;
    return node;
  }

  peekFront(): T | undefined {
    return this.head?.value;
  }

  peekBack(): WaitingNode<T> | undefined {
    return this.tail;
  }

  popFront(): T | undefined {
    const node = this.head;
    if (node === undefined) return undefined;
    this.remove(node);
    return node.value;
  }

  /** Unlinks a node; returns false if it had already left the list. */
  remove(node: WaitingNode<T>): boolean {
    if (!node.linked) return false;
    if (node.previous === undefined) this.head = node.next;
    else node.previous.next = node.next;
    if (node.next === undefined) this.tail = node.previous;
    else node.next.previous = node.previous;
    node.previous = undefined;
    node.next = undefined;
    node.linked = false;
    this.count -= 1;
    return true;
  }
}
