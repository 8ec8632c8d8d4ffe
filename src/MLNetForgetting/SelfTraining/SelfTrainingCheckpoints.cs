using System.Text.Json;
using System.Text.Json.Serialization;
using MLNetForgetting.Persistence;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.SelfTraining;

/// <summary>
/// LiST's checkpoint folder. Within a phase, each phase's <see cref="TrainingLoop{TBatch}"/> keeps its
/// own exact-resume checkpoint in a subfolder (<c>teacher/</c>, <c>round-1-a/</c>, <c>round-1-b/</c>, …;
/// a phase that finished keeps its final checkpoint, so replaying it on resume only reloads it). Between
/// rounds, <c>list-stage.safetensors</c> holds the model that is the next round's teacher, the number of
/// rounds done and the histories so far: a resumed run rebuilds the teacher from it and starts the
/// next round. Every file is written atomically.
/// </summary>
internal sealed class SelfTrainingCheckpoints
{
    public const string StageFile = "list-stage.safetensors";
    private const string StageKind = "list-stage";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly string root;
    private readonly SelfTrainingSettings settings;
    private readonly IReadOnlyDictionary<string, string> configuration;

    private SelfTrainingCheckpoints(string root, SelfTrainingSettings settings, IReadOnlyDictionary<string, string> configuration)
    {
        this.root = root; this.settings = settings; this.configuration = configuration;
    }

    /// <summary>
    /// The store for <paramref name="settings"/>, or null when it names no checkpoint folder.
    /// <paramref name="configuration"/> (called only when there is a folder) gives what every checkpoint of the
    /// run records and a resumed run must match (<see cref="PromptSelfTrainer.ResumeConfiguration"/>).
    /// </summary>
    public static SelfTrainingCheckpoints? For(SelfTrainingSettings settings, Func<IReadOnlyDictionary<string, string>> configuration) =>
        settings.CheckpointDirectory is { } dir ? new SelfTrainingCheckpoints(Path.GetFullPath(dir), settings, configuration()) : null;

    /// <summary>The state kept between rounds.</summary>
    public sealed record Stage(int CompletedRounds, TrainingHistory TeacherInit, List<SelfTrainingRound> Rounds);

    /// <summary>The loop settings of phase <paramref name="name"/>: its subfolder, the interval, resume.</summary>
    public TrainingLoopOptions Configure(TrainingLoopOptions options, string name) => options with
    {
        CheckpointDirectory = Path.Combine(root, name), CheckpointInterval = settings.CheckpointInterval, Resume = settings.Resume,
        Configuration = configuration,
    };

    /// <summary>The round boundary to resume from, read into <paramref name="model"/>'s parameters; null for a fresh start.</summary>
    public Stage? TryResume(PromptClassifier model, Action<string>? log)
    {
        string path = Path.Combine(root, StageFile);
        AtomicFile.RemoveStaleTemporaries(path);
        if (!settings.Resume || !File.Exists(path)) return null;
        var tensors = SafeTensors.Read(File.ReadAllBytes(path), out var meta, path);
        try
        {
            if (!meta.TryGetValue("mlnf.kind", out var kind) || kind != StageKind || !meta.TryGetValue("mlnf.list.stage", out var json))
                throw new InvalidDataException($"{path} is not a LiST stage checkpoint.");
            // Names each differing setting; a stage file from before configurations were recorded has only the settings' fingerprint.
            if (meta.ContainsKey(TrainingConfiguration.MetadataKey))
                TrainingConfiguration.Check(path, meta, configuration, log, "list");
            else if (meta.GetValueOrDefault(LegacySettingsKey) != LegacyFingerprint(settings))
                throw new InvalidOperationException($"The LiST checkpoint in {root} was written with other settings (seed, rounds, epochs, rates or adapters); resume with the same settings or start a new checkpoint folder.");
            var stage = JsonSerializer.Deserialize<Stage>(json, Json) ?? throw new InvalidDataException($"{path} has an empty stage record.");
            TrainingLoop.CopyParameters(model, tensors, "");
            log?.Invoke($"list: resumed after {(stage.CompletedRounds == 0 ? "teacher initialisation" : $"round {stage.CompletedRounds}")} from {path}");
            return stage;
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>Records that <paramref name="stage"/> is done, with <paramref name="model"/> as the next round's teacher.</summary>
    public void Save(PromptClassifier model, Stage stage)
    {
        var meta = new Dictionary<string, string>
        {
            ["mlnf.kind"] = StageKind,
            ["mlnf.list.stage"] = JsonSerializer.Serialize(stage, Json),
            [TrainingConfiguration.MetadataKey] = TrainingConfiguration.Serialize(configuration),
        };
        var tensors = model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter));
        AtomicFile.Write(Path.Combine(root, StageFile), s => SafeTensors.Write(s, tensors, meta));
    }

    /// <summary>Deletes what the LiST run wrote into <paramref name="folder"/> (the stage file and the phase subfolders); other files stay.</summary>
    public static void Delete(string folder)
    {
        if (!Directory.Exists(folder)) return;
        File.Delete(Path.Combine(folder, StageFile));
        foreach (var sub in Directory.GetDirectories(folder).Where(d => IsPhaseFolder(Path.GetFileName(d))))
            TrainingLoop.DeleteCheckpoints(sub);
        TrainingLoop.DeleteCheckpoints(folder);
    }

    public const string TeacherFolder = "teacher";
    public static string PhaseAFolder(int round) => $"round-{round}-a";
    public static string PhaseBFolder(int round) => $"round-{round}-b";

    private static bool IsPhaseFolder(string name) => name == TeacherFolder || (name.StartsWith("round-", StringComparison.Ordinal) && (name.EndsWith("-a", StringComparison.Ordinal) || name.EndsWith("-b", StringComparison.Ordinal)));

    private const string LegacySettingsKey = "mlnf.list.settings";

    // What stage files recorded before the configuration: the settings minus where checkpoints go, how often, and logging.
    private static string LegacyFingerprint(SelfTrainingSettings s) =>
        JsonSerializer.Serialize(s with { CheckpointDirectory = null, CheckpointInterval = 0, Resume = false, LogInterval = 1 }, Json);

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);
    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Json);
}
