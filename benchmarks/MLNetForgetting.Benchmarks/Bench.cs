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

    /// <summary>Parses "--name value" pairs against the allowed names.</summary>
    public static Dictionary<string, string> Options(string[] args, params string[] allowed)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i].TrimStart('-');
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || !allowed.Contains(name))
                throw new ArgumentException($"Unknown option {args[i]}. Options: {string.Join(" ", allowed.Select(a => "--" + a))}");
            if (i + 1 >= args.Length) throw new ArgumentException($"{args[i]} needs a value.");
            result[name] = args[++i];
        }
        return result;
    }
}
