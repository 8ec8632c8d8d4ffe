using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MLNetForgetting.Training;

/// <summary>
/// What a checkpoint must have been written with for a resumed run to continue it: named settings,
/// tokenizer and data fingerprints, as strings. <see cref="TrainingLoop{TBatch}"/> stores it in every
/// checkpoint (<see cref="TrainingLoopOptions.Configuration"/>) and refuses to resume from one whose
/// configuration differs, naming each differing field with both values: another learning rate, schedule,
/// seed or corpus would otherwise silently give a model of neither configuration.
/// </summary>
internal static class TrainingConfiguration
{
    /// <summary>Checkpoint metadata key of the configuration (a JSON object of strings).</summary>
    public const string MetadataKey = "mlnf.configuration";
    /// <summary>Where pretraining checkpoints stored it before every trainer did; still read.</summary>
    public const string LegacyPretrainingKey = "mlnf.pretrain.configuration";

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// The public properties of a settings record as name → value, except <paramref name="exclude"/>
    /// (where checkpoints go, how often, logging: what does not change the trajectory). Numbers are
    /// invariant round-trip strings, null is "none", nested records are JSON.
    /// </summary>
    public static Dictionary<string, string> Describe(object settings, params string[] exclude)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (exclude.Contains(p.Name) || p.GetIndexParameters().Length > 0 || p.Name == "EqualityContract") continue;
            result[p.Name] = Value(p.GetValue(settings));
        }
        return result;
    }

    private static string Value(object? v) => v switch
    {
        null => "none",
        double d => Format(d),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Enum e => e.ToString(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        string s => s,
        _ => JsonSerializer.Serialize(v, v.GetType()),
    };

    /// <summary>"N lines, sha256 X" of a text stream (one pass; null lines count as empty).</summary>
    public static string Fingerprint(IEnumerable<string?> lines)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long count = 0;
        foreach (var line in lines)
        {
            sha.AppendData(Encoding.UTF8.GetBytes((line ?? "") + "\n"));
            count++;
        }
        return $"{count} lines, sha256 {Convert.ToHexStringLower(sha.GetHashAndReset())[..16]}";
    }

    /// <summary>"field: saved in the checkpoint, current in this run" for each field of <paramref name="current"/> that differs.</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, string> saved, IReadOnlyDictionary<string, string> current) =>
        current.Where(kv => !saved.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key}: {saved.GetValueOrDefault(kv.Key, "(not recorded)")} in the checkpoint, {kv.Value} in this run")
            .ToList();

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> naming every differing field when the checkpoint at
    /// <paramref name="path"/> (its metadata <paramref name="meta"/>) was written with another configuration.
    /// A checkpoint written before configurations were recorded is resumed with a logged note; false then.
    /// </summary>
    public static bool Check(string path, IReadOnlyDictionary<string, string> meta, IReadOnlyDictionary<string, string> current, Action<string>? log, string phase)
    {
        if (!meta.TryGetValue(MetadataKey, out var json) && !meta.TryGetValue(LegacyPretrainingKey, out json))
        {
            log?.Invoke($"{phase}: {path} was written before checkpoints recorded their configuration; resuming without checking it");
            return false;
        }
        var saved = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new();
        var differences = Differences(saved, current);
        if (differences.Count > 0)
            throw new InvalidOperationException($"Cannot resume from {path}: it was written with another training configuration ({string.Join("; ", differences)}). Resume with the settings and data it was written with, or start a new checkpoint folder.");
        return true;
    }

    public static string Serialize(IReadOnlyDictionary<string, string> configuration) => JsonSerializer.Serialize(configuration);
}
