#include "manymodels/core/calendar.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace mm {

char FrequencyCode(Frequency f) {
  switch (f) {
    case Frequency::kDaily: return 'D';
    case Frequency::kWeekly: return 'W';
    case Frequency::kMonthly: return 'M';
    case Frequency::kQuarterly: return 'Q';
    case Frequency::kYearly: return 'Y';
    case Frequency::kHourly: return 'H';
    case Frequency::kInteger: return 'N';
  }
  return '?';
}

std::optional<Frequency> ParseFrequency(std::string_view s) {
  if (s.size() != 1) return std::nullopt;
  switch (std::toupper(static_cast<unsigned char>(s[0]))) {
    case 'D': return Frequency::kDaily;
    case 'W': return Frequency::kWeekly;
    case 'M': return Frequency::kMonthly;
    case 'Q': return Frequency::kQuarterly;
    case 'Y': return Frequency::kYearly;
    case 'H': return Frequency::kHourly;
    case 'N': return Frequency::kInteger;
  }
  return std::nullopt;
}

std::vector<double> DefaultSeasonLengths(Frequency f) {
  switch (f) {
    case Frequency::kDaily: return {7, 365.25};
    case Frequency::kWeekly: return {52.18};
    case Frequency::kMonthly: return {12};
    case Frequency::kQuarterly: return {4};
    case Frequency::kHourly: return {24, 168};
    case Frequency::kYearly:
    case Frequency::kInteger: return {1};
  }
  return {1};
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian calendar).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const unsigned c = static_cast<unsigned>(s[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + c;
  }
  *out = v;
  return true;
}

bool ValidDate(unsigned y, unsigned m, unsigned d) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

}  // namespace

std::optional<RawTime> ParseTime(std::string_view s) {
  unsigned y, mo, d;
  if (s.size() >= 10 && s[4] == '-' && s[7] == '-' && Digits(s, 0, 4, &y) && Digits(s, 5, 2, &mo) &&
      Digits(s, 8, 2, &d)) {
    if (!ValidDate(y, mo, d)) return std::nullopt;
    const int64_t days = DaysFromCivil(y, mo, d);
    if (s.size() == 10) return RawTime{TimeKind::kDate, days};
    unsigned hh, mm, ss = 0;
    if ((s[10] != 'T' && s[10] != ' ') || !Digits(s, 11, 2, &hh) || s.size() < 16 || s[13] != ':' ||
        !Digits(s, 14, 2, &mm))
      return std::nullopt;
    size_t end = 16;
    if (s.size() >= 19 && s[16] == ':') {
      if (!Digits(s, 17, 2, &ss)) return std::nullopt;
      end = 19;
    }
    if (s.size() == end + 1 && s[end] == 'Z') ++end;
    if (end != s.size() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    return RawTime{TimeKind::kDateTime, days * 86400 + hh * 3600 + mm * 60 + ss};
  }
  int64_t v;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return RawTime{TimeKind::kInteger, v};
}

namespace {
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

std::optional<int64_t> ToPeriod(const RawTime& t, Frequency f, int weekly_anchor) {
  if (f == Frequency::kInteger) {
    if (t.kind != TimeKind::kInteger) return std::nullopt;
    return t.value;
  }
  if (t.kind == TimeKind::kInteger) return std::nullopt;
  if (f == Frequency::kHourly) {
    const int64_t secs = t.kind == TimeKind::kDate ? t.value * 86400 : t.value;
    if (secs % 3600 != 0) return std::nullopt;
    return FloorDiv(secs, 3600);
  }
  if (t.kind == TimeKind::kDateTime && t.value % 86400 != 0) return std::nullopt;
  const int64_t days = t.kind == TimeKind::kDate ? t.value : FloorDiv(t.value, 86400);
  int64_t y;
  unsigned m, d;
  switch (f) {
    case Frequency::kDaily: return days;
    case Frequency::kWeekly:
      if ((((days - weekly_anchor) % 7) + 7) % 7 != 0) return std::nullopt;
      return FloorDiv(days - weekly_anchor, 7);
    case Frequency::kMonthly: CivilFromDays(days, &y, &m, &d); return y * 12 + (m - 1);
    case Frequency::kQuarterly: CivilFromDays(days, &y, &m, &d); return y * 4 + (m - 1) / 3;
    case Frequency::kYearly: CivilFromDays(days, &y, &m, &d); return y;
    default: return std::nullopt;
  }
}

std::string FormatPeriod(Frequency f, int64_t p, int weekly_anchor) {
  char buf[32];
  int64_t days = 0;
  switch (f) {
    case Frequency::kInteger: return std::to_string(p);
    case Frequency::kDaily: days = p; break;
    case Frequency::kWeekly: days = p * 7 + weekly_anchor; break;
    case Frequency::kMonthly: days = DaysFromCivil(FloorDiv(p, 12), static_cast<unsigned>(p - FloorDiv(p, 12) * 12) + 1, 1); break;
    case Frequency::kQuarterly:
      days = DaysFromCivil(FloorDiv(p, 4), static_cast<unsigned>(p - FloorDiv(p, 4) * 4) * 3 + 1, 1);
      break;
    case Frequency::kYearly: days = DaysFromCivil(p, 1, 1); break;
    case Frequency::kHourly: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(FloorDiv(p, 24), &y, &m, &d);
      std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:00:00", static_cast<long long>(y), m, d,
                    static_cast<long long>(p - FloorDiv(p, 24) * 24));
      return buf;
    }
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::optional<Frequency> InferFrequency(TimeKind kind, const std::vector<int64_t>& t) {
  if (kind == TimeKind::kInteger) return Frequency::kInteger;
  int64_t gap = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    const int64_t g = t[i] - t[i - 1];
    if (g > 0 && (gap == 0 || g < gap)) gap = g;
  }
  if (kind == TimeKind::kDateTime) {
    if (gap == 0 || gap % 86400 == 0) kind = TimeKind::kDate, gap /= 86400;
    else return gap % 3600 == 0 ? std::optional(Frequency::kHourly) : std::nullopt;
  }
  if (gap <= 1) return Frequency::kDaily;  // one distinct date: daily is the safest reading
  if (gap % 7 == 0 && gap < 28) return Frequency::kWeekly;
  if (gap >= 28 && gap <= 31) return Frequency::kMonthly;
  if (gap >= 89 && gap <= 92) return Frequency::kQuarterly;
  if (gap >= 365 && gap <= 366) return Frequency::kYearly;
  return gap < 7 ? std::optional(Frequency::kDaily) : std::nullopt;
}

}  // namespace mm
