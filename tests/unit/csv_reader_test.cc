#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mm_csv_test_" + name)).string();
}

std::vector<std::vector<std::string>> ReadAll(const std::string& path, std::vector<int64_t>* lines = nullptr) {
  CsvReader r(path);
  std::vector<std::string_view> f;
  std::vector<std::vector<std::string>> out;
  while (r.Next(&f)) {
    out.emplace_back(f.begin(), f.end());
    if (lines) lines->push_back(r.line());
  }
  return out;
}

TEST(CsvReaderTest, PlainQuotedAndCrlf) {
  const std::string p = TempPath("plain.csv");
  std::ofstream(p) << "a,b,c\r\n1,\"x,y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",2,3\nlast,,\n";
  std::vector<int64_t> lines;
  const auto rows = ReadAll(p, &lines);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x,y", "he said \"hi\""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"multi\nline", "2", "3"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"last", "", ""}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 3, 5}));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, GzipAndNoFinalNewline) {
  const std::string p = TempPath("z.csv.gz");
  gzFile g = gzopen(p.c_str(), "wb");
  const std::string text = "k,v\n1,2\n3,4";
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  const auto rows = ReadAll(p);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "4"}));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnError) {
  const std::string p = TempPath("bad.csv");
  std::ofstream(p) << "a,b\n1,\"oops\n";
  EXPECT_THROW(ReadAll(p), InputError);
  std::remove(p.c_str());
}

// One gzip member holding `text`, made in memory.
std::string GzipMember(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The InputError's message, or "" when reading the whole file succeeds.
std::string ReadError(const std::string& path) {
  try {
    ReadAll(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CsvReaderTest, ByteOrderMarkIsSkippedInPlainAndGzip) {
  const std::string text = "\xEF\xBB\xBF" "date,v\n2020-01-01,1\n";
  const std::string plain = TempPath("bom.csv"), gz = TempPath("bom.csv.gz");
  WriteBytes(plain, text);
  WriteBytes(gz, GzipMember(text));
  for (const auto& p : {plain, gz}) {
    const auto rows = ReadAll(p);
    ASSERT_EQ(rows.size(), 2u) << p;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"date", "v"})) << p;
  }
  // Only at the very start: a BOM later in the file is data.
  WriteBytes(plain, "a\n\xEF\xBB\xBF" "b\n");
  EXPECT_EQ(ReadAll(plain)[1][0], "\xEF\xBB\xBF" "b");
  std::remove(plain.c_str());
  std::remove(gz.c_str());
}

TEST(CsvReaderTest, MultiMemberGzipAndZeroPaddingRead) {
  const std::string p = TempPath("multi.csv.gz");
  WriteBytes(p, GzipMember("k,v\n1,2\n") + GzipMember("") + GzipMember("3,4\n") + std::string(10, '\0'));
  const auto rows = ReadAll(p);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "4"}));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, TruncatedGzipIsAnErrorWhereverItIsCut) {
  std::string text = "k,v\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + "," + std::to_string(i * 7 % 13) + "\n";
  const std::string m1 = GzipMember(text), m2 = GzipMember(text);
  const std::string whole = m1 + m2;
  const std::string p = TempPath("cut.csv.gz");
  WriteBytes(p, whole);
  EXPECT_EQ(ReadError(p), "");
  WriteBytes(p, m1);  // a complete first member and nothing after: a legal one-member file
  EXPECT_EQ(ReadError(p), "");
  // Every other cut from the magic bytes on: inside member 1, and inside member 2's header, body or trailer
  // (including one byte of member 2 left after a complete member 1).
  for (size_t cut = 2; cut < whole.size(); ++cut) {
    if (cut == m1.size()) continue;
    WriteBytes(p, whole.substr(0, cut));
    EXPECT_EQ(ReadError(p), p + ": truncated gzip input (unexpected end of file)") << "cut at " << cut;
  }
  std::remove(p.c_str());
}

TEST(CsvReaderTest, GzipTrailerAndDataErrorsAreReported) {
  const std::string m = GzipMember("k,v\n1,2\n3,4\n");
  const std::string p = TempPath("bad.csv.gz");
  std::string crc = m;
  crc[crc.size() - 8] ^= 0x55;  // the trailer: CRC-32 then length, 4 bytes each
  WriteBytes(p, crc);
  EXPECT_EQ(ReadError(p), p + ": gzip CRC error (the data does not match its checksum)");
  std::string len = m;
  len[len.size() - 4] ^= 0x01;
  WriteBytes(p, len);
  EXPECT_EQ(ReadError(p), p + ": gzip length error (the trailer's length does not match the data)");
  WriteBytes(p, m + "garbage");
  EXPECT_EQ(ReadError(p), p + ": data after the end of the gzip stream that is not a gzip member");
  std::string body = m;
  body[12] = static_cast<char>(body[12] ^ 0x7F);  // inside the deflate data
  WriteBytes(p, body);
  const std::string e = ReadError(p);
  EXPECT_EQ(e.rfind(p + ": ", 0), 0u) << e;
  EXPECT_TRUE(e.find("gzip") != std::string::npos) << e;
  std::remove(p.c_str());
}

TEST(CsvReaderTest, ByteRangeStartsAtItsLineAndStopsAtItsEnd) {
  const std::string p = TempPath("range.csv");
  const std::string text = "\xEF\xBB\xBFh1,h2\n1,a\n2,\"b\nc\"\n3,d\n4,e\n";
  std::ofstream(p) << text;
  // Bytes of "2,..." through "3,d\n": lines 3 to 5 of the file (the quoted field holds a line break).
  const uint64_t begin = text.find("\n2,") + 1, end = text.find("\n4,") + 1;
  CsvReader r(p, begin, end, 3);
  std::vector<std::string_view> f;
  ASSERT_TRUE(r.Next(&f));
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.end()), (std::vector<std::string>{"2", "b\nc"}));
  EXPECT_EQ(r.line(), 3);
  ASSERT_TRUE(r.Next(&f));
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.end()), (std::vector<std::string>{"3", "d"}));
  EXPECT_EQ(r.line(), 5);
  EXPECT_FALSE(r.Next(&f));
  // From byte 0 the byte-order mark is skipped, as in a whole file.
  CsvReader head(p, 0, text.find("\n1,") + 1, 1);
  ASSERT_TRUE(head.Next(&f));
  EXPECT_EQ(f[0], "h1");
  EXPECT_FALSE(head.Next(&f));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, DirectoryIsAnError) {
  const std::string d = TempPath("dir");
  std::filesystem::create_directories(d);
  EXPECT_EQ(ReadError(d), d + ": is a directory, not a CSV file");
  std::filesystem::remove(d);
}

TEST(CsvWriterTest, QuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvField(&out, "ETS(M,Ad,M)");
  out += ',';
  AppendCsvField(&out, "plain");
  out += ',';
  AppendCsvField(&out, "a\"b");
  EXPECT_EQ(out, "\"ETS(M,Ad,M)\",plain,\"a\"\"b\"");
  std::string n;
  AppendNumber(&n, 0.1);
  AppendNumber(&n, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(n, "0.1");
}

}  // namespace
}  // namespace mm
