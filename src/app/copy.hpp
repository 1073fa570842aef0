// `vigil copy --from DB --to DB`: copies a whole store into a new, migrated, empty one (usually a
// SQLite file into PostgreSQL, when one machine is not enough), keeping every id; see
// store/copy.hpp for what is copied and checked, and docs/deploy.md for the steps around it.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

namespace vigil::app {

struct CopyCommand {
  std::string from;                // --from / VIGIL_COPY_FROM: a --db location
  std::string to;                  // --to / VIGIL_COPY_TO: a --db location, migrated and empty
  size_t events_per_batch = 1000;  // --batch-events / VIGIL_COPY_BATCH_EVENTS
};

// Declares the options of `copy` on `cmd`, bound to `command`.
void AddCopyOptions(CLI::App& cmd, CopyCommand& command);

// Runs the copy, printing progress and the result. Exit code: 0 done and checked, 1 failed
// (the target is left as it was, except as the message says), 2 a usage error.
int Copy(const CopyCommand& command);

}  // namespace vigil::app
