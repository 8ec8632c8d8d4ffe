using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace MLNetForgetting.Benchmarks;

/// <summary>What every benchmark shares: medians, the machine description and the results file.</summary>
internal static class Bench
{
    public const string DefaultResults = "benchmarks/results/results.jsonl";

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }

    /// <summary>Adds date, CPU and cores to <paramref name="result"/> and appends it as one JSON line.</summary>
    public static void Append(string resultsPath, string benchmark, Dictionary<string, object> result)
    {
        var line = new Dictionary<string, object>
        {
            ["benchmark"] = benchmark,
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["cpu"] = CpuModel(),
            ["logical_cores"] = Environment.ProcessorCount,
        };
        foreach (var kv in result) line[kv.Key] = kv.Value;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        File.AppendAllText(resultsPath, JsonSerializer.Serialize(line) + "\n");
    }

    /// <summary>
    /// Parses "--name value" pairs against the allowed names with System.CommandLine (as the CLI does): an
    /// unknown option, a missing value or --help is an <see cref="ArgumentException"/> listing the options.
    /// </summary>
    public static Dictionary<string, string> Options(string[] args, params string[] allowed)
    {
        var options = allowed.Select(a => new Option<string>("--" + a)).ToArray();
        var command = new RootCommand();
        foreach (var option in options) command.Options.Add(option);
        var parse = command.Parse(args);
        string known = $"Options: {string.Join(" ", allowed.Select(a => "--" + a))}";
        if (parse.Errors.Count > 0) throw new ArgumentException($"{string.Join(" ", parse.Errors.Select(e => e.Message))} {known}");
        if (parse.Action is not null) throw new ArgumentException(known); // --help or --version
        return options.Where(o => parse.GetResult(o) is not null).ToDictionary(o => o.Name[2..], o => parse.GetValue(o)!, StringComparer.Ordinal);
    }
}
