// The machine's floor for a fan-out benchmark: what bare sockets cost, with no server in between.
//
//   fanout-floor --subs N --events M --rate R [--payload B] [--sender-cpu C] [--reader-cpu C]
//
// A sender process (pinned to --sender-cpu) accepts N TCP connections on 127.0.0.1 from a reader
// process (pinned to --reader-cpu) and, M times at R per second, writes one B-byte message to
// every connection, in a plain loop of blocking send() calls. The reader takes them with epoll
// and read(), and notes each message's latency: from the sender's clock just before the first
// send of that round to the read. This is what any server's fan-out adds work to — the same
// sockets, the same kernel path, the same load-tool core — so its latency and CPU per message are
// a lower bound for the live benchmarks run beside it. Prints one JSON line.
//
// Bounded: at most --max-runtime-s (60) seconds; loopback only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double CpuSeconds() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

void Pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

[[noreturn]] void Die(const char* what) {
  perror(what);
  exit(1);
}

struct Message {  // the head of every message; the rest is padding
  int64_t round;
  int64_t sent_ns;
};

struct Options {
  int subs = 1000, events = 200, payload = 256, sender_cpu = 0, reader_cpu = 1;
  double rate = 20;
  int max_runtime_s = 60;
};

// The reader: connects, then reads until it has every message or time is up. Writes its results
// to `out` as "received cpu_s p50_us p99_us max_us".
void Reader(const Options& o, const sockaddr_in& addr, int ready, int out) {
  Pin(o.reader_cpu);
  int ep = epoll_create1(0);
  std::vector<int> fds(o.subs);
  std::vector<std::string> partial(o.subs);
  for (int i = 0; i < o.subs; ++i) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0) Die("socket");
    if (connect(fds[i], reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      Die("connect");
    }
    fcntl(fds[i], F_SETFL, O_NONBLOCK);
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
  }
  char go = 1;
  if (write(ready, &go, 1) != 1) Die("write");
  const double cpu0 = CpuSeconds();
  const int64_t deadline = NowNs() + int64_t{o.max_runtime_s} * 1'000'000'000;
  const int64_t expected = int64_t{o.subs} * o.events;
  std::vector<int64_t> latency;
  latency.reserve(expected);
  std::vector<epoll_event> events(1024);
  std::vector<char> buf(64 << 10);
  while (static_cast<int64_t>(latency.size()) < expected && NowNs() < deadline) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      const uint32_t i = events[k].data.u32;
      for (;;) {
        ssize_t got = read(fds[i], buf.data(), buf.size());
        if (got <= 0) break;
        const int64_t now = NowNs();
        std::string& p = partial[i];
        p.append(buf.data(), static_cast<size_t>(got));
        size_t at = 0;
        for (; p.size() - at >= static_cast<size_t>(o.payload); at += o.payload) {
          Message m;
          std::memcpy(&m, p.data() + at, sizeof m);
          latency.push_back(now - m.sent_ns);
        }
        p.erase(0, at);
      }
    }
  }
  const double cpu = CpuSeconds() - cpu0;
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double q) -> double {
    if (latency.empty()) return 0;
    return latency[std::min(latency.size() - 1, static_cast<size_t>(q * latency.size()))] / 1e3;
  };
  dprintf(out, "%zu %.3f %.0f %.0f %.0f\n", latency.size(), cpu, pct(0.5), pct(0.99),
          latency.empty() ? 0.0 : latency.back() / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--subs")
      o.subs = atoi(v);
    else if (k == "--events")
      o.events = atoi(v);
    else if (k == "--rate")
      o.rate = atof(v);
    else if (k == "--payload")
      o.payload = std::max(static_cast<int>(sizeof(Message)), atoi(v));
    else if (k == "--sender-cpu")
      o.sender_cpu = atoi(v);
    else if (k == "--reader-cpu")
      o.reader_cpu = atoi(v);
    else if (k == "--max-runtime-s")
      o.max_runtime_s = atoi(v);
    else {
      fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  if (listen(listener, 4096) != 0) Die("listen");
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int ready[2], result[2];
  if (pipe(ready) != 0 || pipe(result) != 0) Die("pipe");
  pid_t child = fork();
  if (child == 0) {
    close(listener);
    Reader(o, addr, ready[1], result[1]);
    _exit(0);
  }
  Pin(o.sender_cpu);
  std::vector<int> fds(o.subs);
  for (int i = 0; i < o.subs; ++i) {
    fds[i] = accept(listener, nullptr, nullptr);
    if (fds[i] < 0) Die("accept");
    int one = 1;
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char go;
  if (read(ready[0], &go, 1) != 1) Die("reader");
  std::vector<char> message(o.payload, 'x');
  std::vector<double> passes;
  const double cpu0 = CpuSeconds();
  const int64_t start = NowNs() + 100'000'000;
  for (int r = 0; r < o.events; ++r) {
    const int64_t due = start + static_cast<int64_t>(r * 1e9 / o.rate);
    for (int64_t now = NowNs(); now < due; now = NowNs()) {
      timespec ts{0, static_cast<long>(std::min<int64_t>(due - now, 999'999'999))};
      nanosleep(&ts, nullptr);
    }
    Message m{r, NowNs()};
    std::memcpy(message.data(), &m, sizeof m);
    for (int fd : fds) {
      if (send(fd, message.data(), message.size(), MSG_NOSIGNAL) < 0) Die("send");
    }
    passes.push_back((NowNs() - m.sent_ns) / 1e6);
  }
  const double cpu = CpuSeconds() - cpu0;
  // Rounds per second actually sent: below --rate when a round takes longer than the interval.
  const double achieved = o.events / ((NowNs() - start) / 1e9 + 1 / o.rate);
  size_t received = 0;
  double reader_cpu = 0, p50 = 0, p99 = 0, max = 0;
  FILE* in = fdopen(result[0], "r");
  if (fscanf(in, "%zu %lf %lf %lf %lf", &received, &reader_cpu, &p50, &p99, &max) != 5) {
    fprintf(stderr, "no result from the reader\n");
  }
  waitpid(child, nullptr, 0);
  std::sort(passes.begin(), passes.end());
  const double sends = double(o.subs) * o.events;
  printf(
      "{\"tool\":\"fanout-floor\",\"subs\":%d,\"events\":%d,\"rate\":%.1f,\"payload_bytes\":%d,"
      "\"expected\":%.0f,\"received\":%zu,\"latency_us\":{\"p50\":%.0f,\"p99\":%.0f,\"max\":%.0f},"
      "\"pass_ms\":{\"p50\":%.2f,\"max\":%.2f},\"achieved_rate\":%.2f,"
      "\"sender_cpu_s\":%.3f,\"sender_us_per_send\":%.2f,"
      "\"reader_cpu_s\":%.3f,\"reader_us_per_message\":%.2f}\n",
      o.subs, o.events, o.rate, o.payload, sends, received, p50, p99, max,
      passes[passes.size() / 2], passes.back(), achieved, cpu, cpu * 1e6 / sends, reader_cpu,
      reader_cpu * 1e6 / sends);
  return received == static_cast<size_t>(sends) ? 0 : 1;
}
