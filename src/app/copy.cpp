#include "app/copy.hpp"

#include <chrono>
#include <cstdio>

#include "store/copy.hpp"
#include "store/open.hpp"

namespace vigil::app {

void AddCopyOptions(CLI::App& cmd, CopyCommand& c) {
  cmd.add_option("--from", c.from,
                 "the store to copy: a SQLite file path, or a PostgreSQL URL (as --db takes)")
      ->envname("VIGIL_COPY_FROM")
      ->required();
  cmd.add_option("--to", c.to,
                 "the store to copy into, migrated (vigil migrate) and empty: a PostgreSQL URL, "
                 "or a SQLite file path")
      ->envname("VIGIL_COPY_TO")
      ->required();
  cmd.add_option("--batch-events", c.events_per_batch,
                 "events read from the source and appended to the target at once")
      ->envname("VIGIL_COPY_BATCH_EVENTS")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
}

int Copy(const CopyCommand& c) {
  auto from = store::ParseStoreLocation(c.from);
  auto to = store::ParseStoreLocation(c.to);
  for (const auto& [flag, location] : {std::pair{"--from", &from}, std::pair{"--to", &to}}) {
    if (!*location) {
      std::fprintf(stderr, "vigil copy: %s: %s\n", flag, location->error().message.c_str());
      return 2;
    }
  }
  const std::string from_name = store::RedactedLocation(c.from);
  const std::string to_name = store::RedactedLocation(c.to);
  if (from->backend == to->backend && from->target == to->target) {
    std::fprintf(stderr, "vigil copy: --from and --to are the same store (%s)\n",
                 from_name.c_str());
    return 2;
  }
  // Opening checks that each is a migrated vigil store at this build's schema version, and says
  // what to run when not; nothing is created.
  auto source = store::OpenStore(c.from, {.read_connections = 1});
  if (!source) {
    std::fprintf(stderr, "vigil copy: the source %s: %s\n", from_name.c_str(),
                 Describe(source.error()).c_str());
    return 1;
  }
  auto target = store::OpenStore(c.to, {.read_connections = 1});
  if (!target) {
    std::fprintf(stderr, "vigil copy: the target %s: %s\n", to_name.c_str(),
                 Describe(target.error()).c_str());
    return 1;
  }
  std::printf("copying %s into %s (one transaction; nothing is visible there until the end)\n",
              from_name.c_str(), to_name.c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  auto progress = [&last_print](const store::CopyReport& so_far) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_print < std::chrono::seconds(2)) return;
    last_print = now;
    std::printf("  %lld investigations, %lld events so far\n",
                static_cast<long long>(so_far.investigations),
                static_cast<long long>(so_far.events));
    std::fflush(stdout);
  };
  auto report =
      store::CopyStore(**source, **target, {.events_per_batch = c.events_per_batch}, progress);
  if (!report) {
    std::fprintf(stderr, "vigil copy: %s\n", Describe(report.error()).c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "copied %lld investigations and %lld events in %.1f s; read back, the target's "
      "investigations, versions and last event ids match the source's\n",
      static_cast<long long>(report->investigations), static_cast<long long>(report->events),
      seconds);
  return 0;
}

}  // namespace vigil::app
