#include "manymodels/parallel/communicator.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <list>
#include <stdexcept>

#include "manymodels/io/files.h"

namespace mm {
namespace {

class SerialCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int node_local_size() const override { return 1; }
  std::string host() const override { return HostName(); }
  void Broadcast(std::vector<uint8_t>*) override {}
  void SendToRoot(std::vector<uint8_t>) override { throw std::logic_error("SendToRoot on a single process"); }
  bool Poll(std::vector<uint8_t>*, int*) override { return false; }
  void Receive(std::vector<uint8_t>*, int*) override { throw std::logic_error("Receive on a single process"); }
  void SendFromRoot(int, std::vector<uint8_t>) override { throw std::logic_error("SendFromRoot on a single process"); }
  void ReceiveFromRoot(std::vector<uint8_t>*) override { throw std::logic_error("ReceiveFromRoot on a single process"); }
  void FinishSends() override {}
  void Barrier() override {}
  void SumBefore(std::vector<int64_t>* values) override { std::fill(values->begin(), values->end(), 0); }
  void MaxAll(std::vector<int64_t>*) override {}
  void AllToAll(const std::vector<uint8_t>& out, const std::vector<uint64_t>& out_sizes,
                std::vector<uint8_t>* in, std::vector<uint64_t>* in_sizes) override {
    *in = out;
    *in_sizes = out_sizes;
  }
  [[noreturn]] void Abort(int code) override {
    RemoveTemporaries();
    std::exit(code);
  }
};

constexpr int kTag = 17;       // to rank 0
constexpr int kReplyTag = 18;  // from rank 0

void CheckMpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw std::runtime_error(std::string(what) + ": " + std::string(msg, len));
  }
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &node_size_);
    MPI_Comm_free(&node);
  }
  ~MpiCommunicator() override {
    try {
      FinishSends();
    } catch (...) {
    }
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int node_local_size() const override { return node_size_; }
  std::string host() const override { return HostName(); }

  void Broadcast(std::vector<uint8_t>* bytes) override {
    uint64_t n = bytes->size();
    CheckMpi(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    bytes->resize(n);
    // In pieces below 2^31 bytes (MPI counts are int).
    for (uint64_t off = 0; off < n; off += kPiece) {
      const int len = static_cast<int>(std::min<uint64_t>(kPiece, n - off));
      CheckMpi(MPI_Bcast(bytes->data() + off, len, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  void SendToRoot(std::vector<uint8_t> bytes) override { Send(0, kTag, std::move(bytes)); }
  void SendFromRoot(int dest, std::vector<uint8_t> bytes) override { Send(dest, kReplyTag, std::move(bytes)); }

  bool Poll(std::vector<uint8_t>* bytes, int* source) override { return PollTag(MPI_ANY_SOURCE, kTag, bytes, source); }

  // The waits below poll and sleep instead of spinning in MPI: a rank that has finished its share must not take
  // a core from the ranks (or rank 0's writer thread) still working on the same node.
  void Receive(std::vector<uint8_t>* bytes, int* source) override {
    Backoff backoff;
    while (!Poll(bytes, source)) backoff.Wait();
  }
  void ReceiveFromRoot(std::vector<uint8_t>* bytes) override {
    Backoff backoff;
    int source = 0;
    while (!PollTag(0, kReplyTag, bytes, &source)) backoff.Wait();
  }

  void FinishSends() override {
    Backoff backoff;
    for (;;) {
      Reap();
      if (pending_.empty()) return;
      backoff.Wait();
    }
  }

  void Barrier() override {
    MPI_Request request;
    CheckMpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
    Backoff backoff;
    for (int done = 0;;) {
      CheckMpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) return;
      backoff.Wait();
    }
  }
  void SumBefore(std::vector<int64_t>* values) override {
    std::vector<int64_t> in = *values;
    CheckMpi(MPI_Exscan(in.data(), values->data(), static_cast<int>(in.size()), MPI_INT64_T, MPI_SUM,
                        MPI_COMM_WORLD),
             "MPI_Exscan");
    if (rank_ == 0) std::fill(values->begin(), values->end(), 0);  // MPI leaves rank 0's undefined
  }
  void MaxAll(std::vector<int64_t>* values) override {
    CheckMpi(MPI_Allreduce(MPI_IN_PLACE, values->data(), static_cast<int>(values->size()), MPI_INT64_T,
                           MPI_MAX, MPI_COMM_WORLD),
             "MPI_Allreduce");
  }
  void AllToAll(const std::vector<uint8_t>& out, const std::vector<uint64_t>& out_sizes,
                std::vector<uint8_t>* in, std::vector<uint64_t>* in_sizes) override {
    const auto n = static_cast<size_t>(size_);
    if (out_sizes.size() != n) throw std::logic_error("AllToAll: one message per rank is needed");
    send_counts_.resize(n), send_at_.resize(n), receive_counts_.resize(n), receive_at_.resize(n);
    uint64_t total = 0;
    for (size_t d = 0; d < n; ++d) {
      send_at_[d] = static_cast<int>(total);
      send_counts_[d] = static_cast<int>(out_sizes[d]);
      total += out_sizes[d];
      if (total >= kPiece * 2) throw std::logic_error("AllToAll: 2^31 bytes or more to send");
    }
    if (total != out.size()) throw std::logic_error("AllToAll: the sizes do not add up to the messages");
    MPI_Request request = MPI_REQUEST_NULL;
    CheckMpi(MPI_Ialltoall(send_counts_.data(), 1, MPI_INT, receive_counts_.data(), 1, MPI_INT,
                           MPI_COMM_WORLD, &request),
             "MPI_Ialltoall");
    Await(&request, "MPI_Ialltoall");
    total = 0;
    in_sizes->resize(n);
    for (size_t s = 0; s < n; ++s) {
      receive_at_[s] = static_cast<int>(total);
      (*in_sizes)[s] = static_cast<uint64_t>(receive_counts_[s]);
      total += (*in_sizes)[s];
      if (total >= kPiece * 2) throw std::logic_error("AllToAll: 2^31 bytes or more to receive");
    }
    in->resize(total);
    CheckMpi(MPI_Ialltoallv(out.data(), send_counts_.data(), send_at_.data(), MPI_BYTE, in->data(),
                            receive_counts_.data(), receive_at_.data(), MPI_BYTE, MPI_COMM_WORLD, &request),
             "MPI_Ialltoallv");
    Await(&request, "MPI_Ialltoallv");
  }
  [[noreturn]] void Abort(int code) override {
    RemoveTemporaries();  // MPI_Abort runs no destructors
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 private:
  static constexpr uint64_t kPiece = 1u << 30;
  std::vector<int> send_counts_, send_at_, receive_counts_, receive_at_;  // AllToAll's, kept
  // Sleeps 50 us, doubling up to 2 ms: quick replies stay quick, long waits cost no CPU.
  struct Backoff {
    std::chrono::microseconds delay{50};
    void Wait() {
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::microseconds(2000));
    }
  };
  struct Pending {
    std::vector<uint8_t> bytes;
    MPI_Request request;
  };
  // Waits for `request`: testing it for 200 us (a partner about to arrive), then sleeping between tests from
  // 20 us up to 200 us, so that a rank waiting for a slower one leaves its CPU to others (MPI's blocking
  // collectives poll without pause: on a shared or oversubscribed node that starves the rank waited for).
  static void Await(MPI_Request* request, const char* what) {
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    std::chrono::microseconds delay{20};
    for (int done = 0;;) {
      CheckMpi(MPI_Test(request, &done, MPI_STATUS_IGNORE), what);
      if (done) return;
      if (std::chrono::steady_clock::now() < spin_until) continue;
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::microseconds(200));
    }
  }

  void Send(int dest, int tag, std::vector<uint8_t> bytes) {
    if (bytes.size() > static_cast<size_t>(kPiece)) throw std::runtime_error("message too large for one send");
    // Completed sends are released as we go, so a fast sender does not hold every batch in memory.
    Reap();
    pending_.push_back({std::move(bytes), MPI_REQUEST_NULL});
    auto& p = pending_.back();
    CheckMpi(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD,
                       &p.request),
             "MPI_Isend");
  }

  bool PollTag(int from, int tag, std::vector<uint8_t>* bytes, int* source) {
    int flag = 0;
    MPI_Status status;
    CheckMpi(MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (!flag) return false;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    bytes->resize(static_cast<size_t>(count));
    CheckMpi(MPI_Recv(bytes->data(), count, MPI_BYTE, status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
             "MPI_Recv");
    *source = status.MPI_SOURCE;
    return true;
  }

  void Reap() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      int done = 0;
      CheckMpi(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      it = done ? pending_.erase(it) : std::next(it);
    }
  }

  int rank_ = 0, size_ = 1, node_size_ = 1;
  std::list<Pending> pending_;
};

}  // namespace

std::unique_ptr<Communicator> MakeSerialCommunicator() { return std::make_unique<SerialCommunicator>(); }
std::unique_ptr<Communicator> MakeMpiCommunicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace mm
