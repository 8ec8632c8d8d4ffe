using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MLNetForgetting.Training;

/// <summary>One update: its loss, throughput and the learning rate of each parameter group.</summary>
public sealed record StepRecord(long Step, double Loss, double TokensPerSecond, IReadOnlyDictionary<string, double> LearningRates);

/// <summary>Something that happened after an update, e.g. an embedding reset ("reset").</summary>
public sealed record TrainingEvent(long Step, string Kind, string? Detail = null);

/// <summary>An evaluation on held-out data after update <see cref="Step"/> (e.g. masked-LM loss and accuracy).</summary>
public sealed record ValidationRecord(long Step, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Everything a run records: per-update loss and learning rates, events such as resets, and
/// validation metrics. It is saved with checkpoints and models, and exports to CSV/JSON for plots.
/// </summary>
public sealed class TrainingHistory
{
    public List<StepRecord> Steps { get; init; } = new();
    public List<TrainingEvent> Events { get; init; } = new();
    public List<ValidationRecord> Validations { get; init; } = new();

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static TrainingHistory FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingHistory>(json) ?? throw new InvalidDataException("Training history JSON is empty.");

    /// <summary>CSV with one row per update: step, loss, tokens_per_second, lr_{group}..., event, and validation columns where evaluated.</summary>
    public string ToCsv()
    {
        var groups = Steps.SelectMany(s => s.LearningRates.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var metrics = Validations.SelectMany(v => v.Metrics.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var events = Events.GroupBy(e => e.Step).ToDictionary(g => g.Key, g => string.Join("|", g.Select(e => e.Kind)));
        var validations = Validations.GroupBy(v => v.Step).ToDictionary(g => g.Key, g => g.Last());
        var sb = new StringBuilder();
        sb.Append("step,loss,tokens_per_second");
        foreach (var g in groups) sb.Append(",lr_").Append(g);
        sb.Append(",event");
        foreach (var m in metrics) sb.Append(",val_").Append(m);
        sb.Append('\n');
        var inv = CultureInfo.InvariantCulture;
        foreach (var s in Steps)
        {
            sb.Append(s.Step.ToString(inv)).Append(',').Append(s.Loss.ToString("R", inv)).Append(',').Append(s.TokensPerSecond.ToString("F1", inv));
            foreach (var g in groups) sb.Append(',').Append(s.LearningRates.TryGetValue(g, out var lr) ? lr.ToString("R", inv) : "");
            sb.Append(',').Append(events.TryGetValue(s.Step, out var e) ? e : "");
            foreach (var m in metrics)
                sb.Append(',').Append(validations.TryGetValue(s.Step, out var v) && v.Metrics.TryGetValue(m, out var x) ? x.ToString("R", inv) : "");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Mean loss over the updates of each episode of <paramref name="resetInterval"/> updates (docs/methods.md §1.5: log the loss per episode).</summary>
    public IReadOnlyList<(int Episode, double MeanLoss)> LossPerEpisode(long resetInterval) =>
        resetInterval <= 0 ? new[] { (0, Steps.Count == 0 ? double.NaN : Steps.Average(s => s.Loss)) }
        : Steps.GroupBy(s => (int)((s.Step - 1) / resetInterval)).Select(g => (g.Key, g.Average(s => s.Loss))).ToList();
}
