#include "manymodels/io/lake.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "manymodels/io/files.h"
#include "manymodels/io/predictions.h"
#include "manymodels/version.h"

namespace mm {

void Provenance::WriteTo(const h5::Location& root) const {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  root.SetAttr("program_version", std::string("manymodels ") + MANYMODELS_VERSION + " (" + MANYMODELS_GIT_COMMIT + ")");
  root.SetAttr("command", command);
  root.SetAttr("command_line", command_line);
  root.SetAttr("options", options);
  std::string in;
  for (const auto& [option, path] : inputs) in += option + "=" + path + "\n";
  root.SetAttr("inputs", in);
  if (!run_id.empty()) root.SetAttr("run_id", run_id);
  root.SetAttr("host", HostName());
  root.SetAttr("created", std::string(buf));
}

void WriteKeys(const h5::Location& group, const KeyTable& keys, size_t chunk) {
  for (const auto& c : keys.columns) {
    if (c.is_text) group.WriteStrings(c.name, c.texts, chunk);
    else group.WriteI64(c.name, c.ints, chunk);
  }
}

KeyTable ReadKeys(const h5::Location& group, const std::vector<std::string>& names, size_t offset, size_t count) {
  KeyTable t;
  for (const auto& name : names) {
    KeyColumn c;
    c.name = name;
    c.is_text = group.IsStringColumn(name);
    if (c.is_text) c.texts = group.ReadStrings(name, offset, count);
    else c.ints = group.ReadI64(name, offset, count);
    t.columns.push_back(std::move(c));
  }
  return t;
}

LakeWriter::LakeWriter(const std::string& path, const LakeIndex& ix, const Provenance& provenance,
                       const std::string& history)
    : out_(path), total_(static_cast<size_t>(ix.offsets.back())) {
  file_ = h5::Location::CreateFile(out_.temp_path(), out_.path());
  file_.SetAttr("schema_version", kLakeSchemaVersion);
  file_.SetAttr("kind", std::string("manymodels-lake"));
  file_.SetAttr("frequency", std::string(1, FrequencyCode(ix.frequency)));
  file_.SetAttr("weekly_anchor", static_cast<int64_t>(ix.weekly_anchor));
  file_.SetAttr("season_lengths", ix.season_lengths);
  file_.SetAttr("key_columns", ix.keys.Names());
  file_.SetAttr("time_column", ix.time_column);
  file_.SetAttr("target_column", ix.target_column);
  file_.SetAttr("covariate_columns", ix.covariates);
  provenance.WriteTo(file_);
  if (!history.empty()) file_.SetAttr("history", history);
  h5::Location keys = file_.CreateGroup("keys");
  WriteKeys(keys, ix.keys);
  keys.Close();
  file_.WriteI64("offsets", ix.offsets);
  file_.WriteI64("start", ix.start);
  SetPeriodUnits(file_, "start");
  target_ = file_.CreateF64("target", total_);
  chunk_rows_ = file_.ChunkRows("target");
  encoder_ = std::make_unique<h5::ChunkEncoder>(chunk_rows_);
  written_chunks_.assign((1 + ix.covariates.size()) * ((total_ + chunk_rows_ - 1) / chunk_rows_), false);
  covariate_group_ = file_.CreateGroup("covariates");
  for (const auto& name : ix.covariates) covariates_.push_back(covariate_group_.CreateF64(name, total_));
}

void LakeWriter::Write(size_t n, const double* target, const std::vector<const double*>& covariates) {
  if (written_ + n > total_ || covariates.size() != covariates_.size())
    throw std::logic_error(out_.path() + ": more values written than the lake's offsets hold");
  if (written_ % chunk_rows_ != 0 || (n % chunk_rows_ != 0 && written_ + n != total_))
    throw std::logic_error(out_.path() + ": values written in parts that are not whole chunks");
  for (size_t at = 0; at < n; at += chunk_rows_) {
    const size_t k = std::min(chunk_rows_, n - at);
    WriteChunk(0, written_ + at, encoder_->Encode(target + at, k));
    for (size_t c = 0; c < covariates_.size(); ++c)
      WriteChunk(1 + c, written_ + at, encoder_->Encode(covariates[c] + at, k));
  }
  written_ += n;
}

void LakeWriter::WriteChunk(size_t column, size_t first, std::span<const uint8_t> stored) {
  const size_t chunks = (total_ + chunk_rows_ - 1) / chunk_rows_, at = column * chunks + first / chunk_rows_;
  if (column > covariates_.size() || first % chunk_rows_ != 0 || first >= total_ || written_chunks_[at])
    throw std::logic_error(out_.path() + ": a chunk that is not one of the lake's, or written twice");
  (column == 0 ? target_ : covariates_[column - 1]).WriteChunk(first, stored);
  written_chunks_[at] = true;
}

void LakeWriter::Commit() {
  if (std::find(written_chunks_.begin(), written_chunks_.end(), false) != written_chunks_.end())
    throw std::logic_error(out_.path() + ": fewer values written than the lake's offsets hold");
  target_.Close();
  for (auto& c : covariates_) c.Close();
  covariate_group_.Close();
  file_.Close();
  out_.Commit();
}

void WriteLake(const std::string& path, const LakeData& data, const Provenance& provenance,
               const std::string& history) {
  LakeWriter w(path, data.index, provenance, history);
  std::vector<const double*> covariates;
  for (const auto& c : data.covariates) covariates.push_back(c.data());
  w.Write(data.target.size(), data.target.data(), covariates);
  w.Commit();
}

LakeReader::LakeReader(const std::string& path) : path_(path), file_(h5::Location::OpenFile(path)) {
  if (!file_.HasAttr("kind") || file_.GetAttrString("kind") != "manymodels-lake")
    throw h5::Error(path + ": not a manymodels lake (no kind=manymodels-lake attribute)");
  const int64_t version = file_.GetAttrI64("schema_version");
  if (version != kLakeSchemaVersion)
    throw h5::Error(path + ": lake schema_version " + std::to_string(version) + ", this program reads " +
                    std::to_string(kLakeSchemaVersion));
  auto freq = ParseFrequency(file_.GetAttrString("frequency"));
  if (!freq) throw h5::Error(path + ": unknown frequency attribute");
  index_.frequency = *freq;
  index_.weekly_anchor = static_cast<int>(file_.GetAttrI64("weekly_anchor"));
  index_.season_lengths = file_.GetAttrF64s("season_lengths");
  index_.time_column = file_.GetAttrString("time_column");
  index_.target_column = file_.GetAttrString("target_column");
  index_.covariates = file_.GetAttrStrings("covariate_columns");
  index_.keys = ReadKeys(file_.Group("keys"), file_.GetAttrStrings("key_columns"));
  index_.offsets = file_.ReadI64("offsets");
  index_.start = file_.ReadI64("start");
  if (index_.offsets.size() != index_.start.size() + 1 || index_.keys.size() != index_.start.size())
    throw h5::Error(path + ": keys, offsets and start disagree in length");
  target_ = file_.OpenColumn("target");
  const h5::Location cov = file_.Group("covariates");
  for (const auto& name : index_.covariates) covariates_.push_back(cov.OpenColumn(name));
  const auto total = static_cast<size_t>(index_.offsets.back());
  if (target_.Length() != total) throw h5::Error(path + ": target length disagrees with offsets");
  for (const auto& c : covariates_)
    if (c.Length() != total) throw h5::Error(c.name() + ": length disagrees with offsets");
}

namespace {
std::vector<double> ReadValues(const h5::Dataset& d, const LakeIndex& ix,
                               const std::vector<h5::Range>& ranges) {
  size_t n = 0;
  for (const h5::Range& r : ranges) {
    if (r.offset + r.count > static_cast<size_t>(ix.offsets.back()))
      throw h5::Error(d.name() + ": read past the end");
    n += r.count;
  }
  std::vector<double> v(n);
  d.ReadRanges(H5T_NATIVE_DOUBLE, ranges, v.data());
  return v;
}
std::vector<double> ReadValues(const h5::Dataset& d, const LakeIndex& ix, size_t begin, size_t end) {
  const auto lo = static_cast<size_t>(ix.offsets[begin]), hi = static_cast<size_t>(ix.offsets[end]);
  return ReadValues(d, ix, {{lo, hi - lo}});
}
}  // namespace

std::vector<double> LakeReader::ReadTarget(size_t begin, size_t end) const {
  return ReadValues(target_, index_, begin, end);
}

std::vector<double> LakeReader::ReadCovariate(size_t covariate, size_t begin, size_t end) const {
  return ReadValues(covariates_.at(covariate), index_, begin, end);
}

std::vector<double> LakeReader::ReadTarget(const std::vector<h5::Range>& ranges) const {
  return ReadValues(target_, index_, ranges);
}

std::vector<double> LakeReader::ReadCovariate(size_t covariate, const std::vector<h5::Range>& ranges) const {
  return ReadValues(covariates_.at(covariate), index_, ranges);
}

}  // namespace mm

namespace mm {

std::string LakeReader::TextAttribute(const std::string& name) const {
  return file_.HasAttr(name) ? file_.GetAttrString(name) : std::string();
}

LakeData ReadLake(const std::string& path) {
  const LakeReader reader(path);
  LakeData data;
  data.index = reader.index();
  const size_t n = data.index.num_series();
  data.target = reader.ReadTarget(0, n);
  for (size_t c = 0; c < data.index.covariates.size(); ++c) data.covariates.push_back(reader.ReadCovariate(c, 0, n));
  return data;
}

}  // namespace mm
