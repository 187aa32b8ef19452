// The only door to MPI: a small Communicator interface with a serial and an MPI implementation, passed to the
// code that needs it (never global). Model code never sees it. Calls are made from the process's main thread
// only (MPI is initialised with MPI_THREAD_FUNNELED in main).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mm {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int node_local_size() const = 0;  // ranks on this node, this one included
  virtual std::string host() const = 0;

  // Root's bytes replace everyone else's.
  virtual void Broadcast(std::vector<uint8_t>* bytes) = 0;
  // Sends to rank 0 without waiting for it to receive; messages from one sender arrive in order.
  // Not for rank 0 itself.
  virtual void SendToRoot(std::vector<uint8_t> bytes) = 0;
  // Rank 0: takes one message if one has arrived (returns false if none), or waits for one.
  virtual bool Poll(std::vector<uint8_t>* bytes, int* source) = 0;
  virtual void Receive(std::vector<uint8_t>* bytes, int* source) = 0;
  // Rank 0 to rank `dest` (a reply: work handed out), without waiting; messages to one rank arrive in order.
  // They travel apart from the messages to rank 0, so neither side mistakes one kind for the other.
  virtual void SendFromRoot(int dest, std::vector<uint8_t> bytes) = 0;
  // Not rank 0: waits for the next message from rank 0 (SendFromRoot).
  virtual void ReceiveFromRoot(std::vector<uint8_t>* bytes) = 0;
  // Waits until every SendToRoot (and, on rank 0, SendFromRoot) of this rank has been delivered.
  virtual void FinishSends() = 0;
  virtual void Barrier() = 0;
  // Element by element, every rank with vectors of the same length: the sums over the ranks before this one
  // (zeros on rank 0; MPI_Exscan), and the maxima over all ranks (MPI_Allreduce).
  virtual void SumBefore(std::vector<int64_t>* values) = 0;
  virtual void MaxAll(std::vector<int64_t>* values) = 0;
  // Every rank at once (MPI_Alltoallv): `out` holds size() messages one after the other, `out_sizes` their
  // sizes, the one for rank 0 first; `in` becomes the messages the ranks sent this one, rank 0's first, and
  // `in_sizes` their sizes. Below 2^31 bytes in all, each way. The buffers are the caller's, to be reused.
  virtual void AllToAll(const std::vector<uint8_t>& out, const std::vector<uint64_t>& out_sizes,
                        std::vector<uint8_t>* in, std::vector<uint64_t>* in_sizes) = 0;
  // Ends every rank of the job at once (a failed rank must not leave the others waiting forever), removing
  // this process's temporary files first (io/files.h).
  [[noreturn]] virtual void Abort(int code) = 0;
};

// One process, no MPI.
std::unique_ptr<Communicator> MakeSerialCommunicator();
// MPI_COMM_WORLD; MPI must be initialised.
std::unique_ptr<Communicator> MakeMpiCommunicator();

}  // namespace mm
