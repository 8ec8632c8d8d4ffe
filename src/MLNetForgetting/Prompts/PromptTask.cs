namespace MLNetForgetting.Prompts;

/// <summary>A prompt-based classification task: template, verbalizer and how many input texts an example has.</summary>
/// <param name="Name">Task name (the folder name under <c>list/</c> for the built-ins).</param>
/// <param name="Template">The cloze template.</param>
/// <param name="Verbalizer">Label → label word.</param>
internal sealed record PromptTask(string Name, PromptTemplate Template, Verbalizer Verbalizer)
{
    /// <summary>1 for single-sentence tasks, 2 for sentence pairs.</summary>
    public int SentenceCount => Template.SentenceCount;
}

/// <summary>The six LiST tasks exactly as docs/methods.md §3.1 (LiST's <c>run.sh</c>).</summary>
internal static class LiSTTasks
{
    /// <summary>MNLI: &lt;s&gt; premise-minus-last-char ? &lt;mask&gt; , ␣hypothesis-lower-cased &lt;/s&gt;; max 256.</summary>
    public static PromptTask Mnli { get; } = new("MNLI", PromptTemplate.Parse("*cls**sent-_0*?*mask*,*+sentl_1**sep+*", 256),
        Verbalizer.Of(("contradiction", "No"), ("entailment", "Yes"), ("neutral", "Maybe")));

    /// <summary>RTE: as MNLI with two labels; max 256, premise capped at 240 tokens.</summary>
    public static PromptTask Rte { get; } = new("RTE", PromptTemplate.Parse("*cls**sent-_0*?*mask*,*+sentl_1**sep+*", 256, firstSentenceLimit: 240),
        Verbalizer.Of(("not_entailment", "No"), ("entailment", "Yes")));

    /// <summary>QQP: &lt;s&gt; q1 &lt;mask&gt; , ␣q2-lower-cased &lt;/s&gt;; max 128.</summary>
    public static PromptTask Qqp { get; } = new("QQP", PromptTemplate.Parse("*cls**sent_0**mask*,*+sentl_1**sep+*", 128),
        Verbalizer.Of(("0", "No"), ("1", "Yes")));

    /// <summary>SST-2: &lt;s&gt; sentence ␣It␣was &lt;mask&gt; . &lt;/s&gt;; max 128.</summary>
    public static PromptTask Sst2 { get; } = new("SST-2", PromptTemplate.Parse("*cls**sent_0*_It_was*mask*.*sep+*", 128),
        Verbalizer.Of(("0", "terrible"), ("1", "great")));

    /// <summary>MPQA: as SST-2.</summary>
    public static PromptTask Mpqa { get; } = new("mpqa", PromptTemplate.Parse("*cls**sent_0*_It_was*mask*.*sep+*", 128),
        Verbalizer.Of(("0", "terrible"), ("1", "great")));

    /// <summary>SUBJ: &lt;s&gt; sentence ␣This␣is &lt;mask&gt; . &lt;/s&gt;; max 128.</summary>
    public static PromptTask Subj { get; } = new("subj", PromptTemplate.Parse("*cls**sent_0*_This_is*mask*.*sep+*", 128),
        Verbalizer.Of(("0", "subjective"), ("1", "objective")));

    /// <summary>All six.</summary>
    public static IReadOnlyList<PromptTask> All { get; } = [Mnli, Rte, Qqp, Sst2, Mpqa, Subj];

    /// <summary>A built-in task by name, case-insensitive ("SST-2", "sst2", "mpqa", ...).</summary>
    public static PromptTask Get(string name)
    {
        string key = Canonical(name);
        return All.FirstOrDefault(t => Canonical(t.Name) == key)
            ?? throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown LiST task; expected one of {string.Join(", ", All.Select(t => t.Name))}.");
    }

    private static string Canonical(string name) => (name ?? "").Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
}
