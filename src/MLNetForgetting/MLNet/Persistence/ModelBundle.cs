using System.Text;
using MLNetForgetting.MLNet;
using MLNetForgetting.Modeling;
using Microsoft.ML.Runtime;
using MLNetForgetting.Persistence;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.MLNet.Persistence;

/// <summary>
/// The archive entries of a RoBERTa-style model with its tokenizer, shared by every transformer of
/// ours: <c>config.json</c> (architecture), <c>weights.safetensors</c> (Hugging Face names),
/// <c>tokenizer.…</c> (the vocabulary files), and optionally <c>history.json</c>.
/// </summary>
internal static class ModelBundle
{
    public const string ConfigEntry = "config.json";
    public const string WeightsEntry = "weights.safetensors";
    public const string HistoryEntry = "history.json";
    public const string TokenizerPrefix = "tokenizer."; // entry names are flat (no folders)
    /// <summary>The component's own settings (column names, sizes, device), as JSON.</summary>
    public const string SettingsEntry = "component.json";

    private static readonly System.Text.Json.JsonSerializerOptions SettingsJson = new() { WriteIndented = true };

    /// <summary>Entries that every bundle has.</summary>
    public static readonly string[] RequiredEntries = { ConfigEntry, WeightsEntry };

    /// <param name="model">The model.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="history">Training history to keep with it, if any.</param>
    /// <param name="exclude">Parameters left out (e.g. installed adapters, which an adapter pack holds).</param>
    public static Dictionary<string, byte[]> ToEntries(RobertaForMaskedLM model, SubwordTokenizer tokenizer, TrainingHistory? history = null, Func<string, bool>? exclude = null)
    {
        var tensors = model.NamedTensors().Where(kv => exclude is null || !exclude(kv.Key));
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ConfigEntry] = Encoding.UTF8.GetBytes(model.Config.ToJson()),
            [WeightsEntry] = SafeTensors.ToBytes(tensors),
        };
        foreach (var (name, bytes) in tokenizer.ToFiles()) entries[TokenizerPrefix + name] = bytes;
        if (history is not null) entries[HistoryEntry] = Encoding.UTF8.GetBytes(history.ToJson());
        return entries;
    }

    /// <summary>The bundle entries plus <see cref="SettingsEntry"/> holding <paramref name="settings"/>.</summary>
    public static Dictionary<string, byte[]> ToEntries<TSettings>(RobertaForMaskedLM model, SubwordTokenizer tokenizer, TrainingHistory? history, TSettings settings, Func<string, bool>? exclude = null)
    {
        var entries = ToEntries(model, tokenizer, history, exclude);
        entries[SettingsEntry] = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(settings, SettingsJson);
        return entries;
    }

    /// <summary>
    /// Everything a transformer's loader needs: its settings (checked by <paramref name="problem"/>,
    /// which names what is wrong or returns null), and the model on the settings' device, tokenizer and history.
    /// </summary>
    public static (TSettings Settings, RobertaForMaskedLM Model, SubwordTokenizer Tokenizer, TrainingHistory? History) Load<TSettings>(
        Microsoft.ML.Runtime.IHostEnvironment env, string registrationName, IReadOnlyDictionary<string, byte[]> entries, string component,
        Func<TSettings, string?> problem, Func<TSettings, Runtime.DeviceOption> device) where TSettings : class
    {
        TSettings? settings;
        try { settings = System.Text.Json.JsonSerializer.Deserialize<TSettings>(entries[SettingsEntry], SettingsJson); }
        catch (System.Text.Json.JsonException e) { throw ComponentArchive.Corrupt(component, SettingsEntry, e.Message, e); }
        string? wrong = settings is null ? "it is empty" : problem(settings);
        if (wrong is not null) throw ComponentArchive.Corrupt(component, SettingsEntry, wrong);
        Runtime.TorchRuntime.EnsureInitialized();
        Device target;
        using (var ch = env.Register(LogSources.Prefix + registrationName).Start("Load")) target = Runtime.TorchDevices.Resolve(device(settings!), msg => ch.Warning(msg));
        var (model, tokenizer, history) = FromEntries(entries, component, target);
        return (settings!, model, tokenizer, history);
    }

    /// <summary>Entries every bundled transformer requires, plus <paramref name="extra"/>.</summary>
    public static string[] Required(params string[] extra) => [.. RequiredEntries, SettingsEntry, .. extra];

    /// <summary>Rebuilds the model (in eval mode, on <paramref name="device"/>), tokenizer and history; corrupt entries raise <see cref="ModelFormatException"/>.</summary>
    public static (RobertaForMaskedLM Model, SubwordTokenizer Tokenizer, TrainingHistory? History) FromEntries(
        IReadOnlyDictionary<string, byte[]> entries, string component, Device device)
    {
        RobertaConfig config;
        try { config = RobertaConfig.FromJson(Encoding.UTF8.GetString(entries[ConfigEntry])); config.Validate(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or ArgumentException)
        { throw ComponentArchive.Corrupt(component, ConfigEntry, "it is not a valid model configuration", e); }

        var tokenizerFiles = entries.Where(kv => kv.Key.StartsWith(TokenizerPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[TokenizerPrefix.Length..], kv => kv.Value);
        if (tokenizerFiles.Count == 0) throw new ModelFormatException(component, "the model zip has no tokenizer files", TokenizerPrefix);
        SubwordTokenizer tokenizer;
        try { tokenizer = SubwordTokenizer.FromFiles(tokenizerFiles); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException or System.Text.Json.JsonException or KeyNotFoundException)
        { throw ComponentArchive.Corrupt(component, TokenizerPrefix, "the tokenizer files cannot be read", e); }

        var model = new RobertaForMaskedLM(config);
        Dictionary<string, Tensor> tensors;
        try { tensors = SafeTensors.Read(entries[WeightsEntry], out _, WeightsEntry); }
        catch (InvalidDataException e) { model.Dispose(); throw ComponentArchive.Corrupt(component, WeightsEntry, e.Message, e); }
        try { model.LoadNamedTensors(tensors); }
        catch (InvalidDataException e) { model.Dispose(); throw ComponentArchive.Corrupt(component, WeightsEntry, e.Message, e); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        model.to(device);
        model.eval();

        TrainingHistory? history = null;
        if (entries.TryGetValue(HistoryEntry, out var h))
        {
            try { history = TrainingHistory.FromJson(Encoding.UTF8.GetString(h)); }
            catch (System.Text.Json.JsonException e) { throw ComponentArchive.Corrupt(component, HistoryEntry, "the training history is not valid JSON", e); }
        }
        return (model, tokenizer, history);
    }
}
