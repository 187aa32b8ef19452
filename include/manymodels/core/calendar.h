// Frequencies and the mapping between calendar times and integer period indices.
// A series is stored on a regular grid of periods; a period index is:
//   D: days since 1970-01-01        W: weeks since the anchor day (days - anchor) / 7
//   M: year * 12 + month - 1        Q: year * 4 + quarter - 1       Y: year
//   H: hours since 1970-01-01T00    N: the integer as given
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm {

enum class Frequency { kDaily, kWeekly, kMonthly, kQuarterly, kYearly, kHourly, kInteger };

char FrequencyCode(Frequency f);                            // 'D', 'W', ...
std::optional<Frequency> ParseFrequency(std::string_view s);  // "D", "W", ... (case-insensitive)
// The cycles a model should consider by default: D {7, 365.25}, W {52.18}, M {12}, Q {4}, Y {1}, H {24, 168}, N {1}.
std::vector<double> DefaultSeasonLengths(Frequency f);

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

// What a time field holds, before it is put on a frequency's grid.
enum class TimeKind { kDate, kDateTime, kInteger };
struct RawTime {
  TimeKind kind;
  int64_t value;  // days for kDate, seconds since the epoch for kDateTime, the integer for kInteger
};
// Parses "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS]" or an integer. Returns nullopt when it is none of these.
std::optional<RawTime> ParseTime(std::string_view s);

// Puts a raw time on the grid of `f`. `weekly_anchor` (0..6) is the day-of-grid of weekly data.
// Returns nullopt when the time cannot be expressed at that frequency (e.g. an integer for 'D',
// or a date off the weekly grid, or a datetime off the hour for 'H').
std::optional<int64_t> ToPeriod(const RawTime& t, Frequency f, int weekly_anchor);

// Formats a period index as ISO text: D and W "YYYY-MM-DD", M/Q/Y the first day of the period,
// H "YYYY-MM-DDTHH:00:00", N the integer.
std::string FormatPeriod(Frequency f, int64_t period, int weekly_anchor);

// Infers the frequency from the sorted distinct raw times of a data set (smallest positive gap).
std::optional<Frequency> InferFrequency(TimeKind kind, const std::vector<int64_t>& sorted_distinct);

}  // namespace mm
