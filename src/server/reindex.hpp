// confabd --reindex: rebuilds the search index online, then exits.
//
// Every message event is put in the index again from its stored state (current text; removed if
// deleted or not text/plain), as the "search" feed consumer would, so an index that lost or
// garbled documents (a restored backup, a tokenizer change) becomes what the events say. The
// rebuild is a feed consumer of its own, "search.rebuild": its cursor in feed_cursors is the
// progress, so a rebuild that crashed (or was interrupted) resumes where it stopped at the next
// --reindex; a finished one forgets its cursor, and the next --reindex starts over.
//
// Online: the old index keeps answering searches while it is rebuilt. The rebuild takes the
// "search" lease (feed.hpp), asking the node that holds it to hand it over at its next claim,
// and while it holds it also runs the live "search" consumer, one batch of each in turn on one
// coroutine: new messages stay searchable, and since only the holder writes the index, an edit
// committed while a rebuild batch was in flight is re-applied by the next live batch (never lost
// under the rebuild's older copy). At the end it releases the lease; a node takes it back.
//
// Output: a progress line on stderr (redrawn in place on a terminal, every 5 s otherwise): events
// done of total, rate, ETA. Exit code 0 when the rebuild finished, 130 after SIGINT/SIGTERM (the
// batch in hand is committed first; run again to resume), 1 when storage failed.
#pragma once

#include "storage/feed.hpp"
#include "storage/store.hpp"

namespace confab::server {

int reindex(storage::store& store, storage::feed& feed, int batch);

}  // namespace confab::server
