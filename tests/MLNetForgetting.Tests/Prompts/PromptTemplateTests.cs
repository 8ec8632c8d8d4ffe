using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.SelfTraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Prompts;

[TestClass]
public sealed class PromptTemplateTests
{
    private static SubwordTokenizer Tok => ListFixture.Tokenizer;

    private static int[] E(string text) => Tok.EncodeToIds(text);

    private static int[] Concat(params int[][] pieces) => [.. pieces.SelectMany(p => p)];

    private static void AssertRenders(PromptTask task, string[] texts, int[] expected)
    {
        var enc = task.Template.Encode(texts, Tok);
        CollectionAssert.AreEqual(expected, enc.Ids, $"{task.Name}: got [{string.Join(",", enc.Ids)}] = '{Tok.Decode(enc.Ids)}'");
        Assert.AreEqual(Array.IndexOf(expected, Tok.MaskId), enc.MaskPosition);
        Assert.IsFalse(enc.Truncated);
    }

    [TestMethod]
    public void NliTemplatesDropThePremisesLastCharacterAndLowerCaseTheHypothesis()
    {
        // docs/methods.md §3.1: <s> · premise minus last char · "?" · <mask> · "," · ␣hypothesis lower-cased first char · </s>
        string premise = "Cook might just as well be gambling on what color tie President Clinton will wear tomorrow.";
        string hypothesis = "President Clinton will wear a tie tomorrow.";
        int[] expected = Concat([Tok.BosId], E(premise[..^1]), E("?"), [Tok.MaskId], E(","), E(" president Clinton will wear a tie tomorrow."), [Tok.EosId]);
        AssertRenders(LiSTTasks.Mnli, [premise, hypothesis], expected);
        AssertRenders(LiSTTasks.Rte, [premise, hypothesis], expected);
    }

    [TestMethod]
    public void QqpTemplateHasNoQuestionMarkAndAddsTheSpaceOnlyBeforeTheSecondQuestion()
    {
        string q1 = "Are Stephen Hawking theories fictional?", q2 = "Do you believe Stephen Hawking's theory?";
        int[] expected = Concat([Tok.BosId], E(q1), [Tok.MaskId], E(","), E(" do you believe Stephen Hawking's theory?"), [Tok.EosId]);
        AssertRenders(LiSTTasks.Qqp, [q1, q2], expected);
    }

    [TestMethod]
    public void SingleSentenceTemplatesAppendTheirPromptWithALeadingSpace()
    {
        string s = "finding the characters in slackers or their antics amusing , let alone funny";
        int[] itWas = Concat([Tok.BosId], E(s), E(" It was"), [Tok.MaskId], E("."), [Tok.EosId]);
        AssertRenders(LiSTTasks.Sst2, [s], itWas);
        AssertRenders(LiSTTasks.Mpqa, [s], itWas);
        AssertRenders(LiSTTasks.Subj, [s], Concat([Tok.BosId], E(s), E(" This is"), [Tok.MaskId], E("."), [Tok.EosId]));
    }

    [TestMethod]
    public void BuiltInTasksHaveThePapersVerbalizersAndLengths()
    {
        CollectionAssert.AreEqual(new[] { "No", "Yes", "Maybe" }, LiSTTasks.Mnli.Verbalizer.Words.ToArray());
        CollectionAssert.AreEqual(new[] { "contradiction", "entailment", "neutral" }, LiSTTasks.Mnli.Verbalizer.Labels.ToArray());
        CollectionAssert.AreEqual(new[] { "not_entailment", "entailment" }, LiSTTasks.Rte.Verbalizer.Labels.ToArray());
        CollectionAssert.AreEqual(new[] { "terrible", "great" }, LiSTTasks.Sst2.Verbalizer.Words.ToArray());
        CollectionAssert.AreEqual(new[] { "subjective", "objective" }, LiSTTasks.Subj.Verbalizer.Words.ToArray());
        Assert.AreEqual(256, LiSTTasks.Mnli.Template.MaxLength);
        Assert.AreEqual(240, LiSTTasks.Rte.Template.FirstSentenceLimit);
        Assert.AreEqual(128, LiSTTasks.Qqp.Template.MaxLength);
        Assert.AreSame(LiSTTasks.Sst2, LiSTTasks.Get("sst2"));
        Assert.AreSame(LiSTTasks.Mpqa, LiSTTasks.Get("MPQA"));
        foreach (var task in LiSTTasks.All)
            Assert.AreEqual(task.Verbalizer.Count, task.Verbalizer.LabelWordIds(Tok).Distinct().Count(), $"{task.Name}: label words must be distinct single tokens");
    }

    [TestMethod]
    public void EveryBuiltInTaskRendersItsRealTestRowsWithExactlyOneMask()
    {
        foreach (var task in LiSTTasks.All)
        {
            var rows = FewShotData.LoadTest(TextTestData.DataRoot, task.Name).Take(20).ToList();
            foreach (var row in rows)
            {
                var enc = task.Template.Encode(row.Texts, Tok, 64);
                Assert.AreEqual(1, enc.Ids.Count(i => i == Tok.MaskId), task.Name);
                Assert.AreEqual(Tok.BosId, enc.Ids[0]);
                Assert.AreEqual(Tok.EosId, enc.Ids[^1]);
                Assert.IsLessThanOrEqualTo(64, enc.Ids.Length);
                Assert.IsTrue(task.Verbalizer.Contains(row.Label!), $"{task.Name}: test label '{row.Label}' not in the verbalizer");
            }
        }
    }

    [TestMethod]
    public void TruncationCutsTheLongestSentenceAndKeepsTheMaskAndEnd()
    {
        string longText = string.Join(" ", Enumerable.Repeat("the movie was long and the plot was thin", 20));
        var enc = LiSTTasks.Sst2.Template.Encode([longText], Tok, 20);
        Assert.AreEqual(20, enc.Ids.Length);
        Assert.IsTrue(enc.Truncated);
        CollectionAssert.AreEqual(Concat(E(" It was"), [Tok.MaskId], E("."), [Tok.EosId]), enc.Ids[^(E(" It was").Length + 3)..]);
        CollectionAssert.AreEqual(E(longText)[..(20 - 3 - E(" It was").Length - 1)], enc.Ids[1..(20 - 3 - E(" It was").Length)]);

        // RTE: the premise alone is capped at 240 tokens before anything else.
        var rte = PromptTemplate.Parse("*cls**sent-_0*?*mask*,*+sentl_1**sep+*", 256, firstSentenceLimit: 5);
        var pair = rte.Encode([longText, "A short one."], Tok);
        CollectionAssert.AreEqual(E(longText[..^1])[..5], pair.Ids[1..6]);
        Assert.IsTrue(pair.Truncated);
    }

    [TestMethod]
    public void UserTemplatesFollowTheSameSyntax()
    {
        var t = PromptTemplate.Parse("*cls*_Review:*+sentu_0*_All_in_all,_it_was*mask*!*sep*");
        var enc = t.Encode(["bad acting."], Tok);
        CollectionAssert.AreEqual(Concat([Tok.BosId], E(" Review:"), E(" Bad acting."), E(" All in all, it was"), [Tok.MaskId], E("!"), [Tok.EosId]), enc.Ids);
        Assert.AreEqual(1, t.SentenceCount);
        Assert.AreEqual(2, PromptTemplate.Parse("*cls**sent_0**mask**+sentl-_1**sep*").SentenceCount);
    }

    [TestMethod]
    public void MalformedTemplatesAreRejected()
    {
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => PromptTemplate.Parse("*cls**sent_0*_It_was.*sep*")).Message, "exactly one *mask*");
        Assert.ThrowsExactly<FormatException>(() => PromptTemplate.Parse("*cls**sent_0**mask**mask**sep*"));
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => PromptTemplate.Parse("*cls**sent_0**mask**label_0**sep*")).Message, "label_0");
        var tok = Tok; // outside the lambda: without real data the fixture reports Inconclusive, not a wrong exception
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LiSTTasks.Mnli.Template.Encode(["only a premise."], tok)).Message, "2 sentence");
    }

    [TestMethod]
    public void ALabelWordThatIsNotOneTokenIsRejectedByName()
    {
        var v = Verbalizer.Of(("0", "terrible"), ("1", "unquestionablymagnificent"));
        var tok = Tok; // outside the lambda (see MalformedTemplatesAreRejected)
        var e = Assert.ThrowsExactly<LabelWordException>(() => v.LabelWordIds(tok));
        Assert.AreEqual("unquestionablymagnificent", e.Word);
        StringAssert.Contains(e.Message, "'unquestionablymagnificent'");
        StringAssert.Contains(e.Message, "not a single token");
        StringAssert.Contains(e.Message, "RequiredTokens");
        // Through the model factory as well.
        var task = LiSTTasks.Sst2 with { Verbalizer = v };
        Assert.ThrowsExactly<LabelWordException>(() => PromptClassifier.Create(ListFixture.Backbone, Tok, task, ListFixture.SmallAdapters));
    }

    [TestMethod]
    public void VerbalizerNamesAMissingLabel()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => LiSTTasks.Sst2.Verbalizer.IndexOf("2"));
        StringAssert.Contains(e.Message, "'2'");
        Assert.ThrowsExactly<ArgumentException>(() => Verbalizer.Of(("0", " great"), ("1", "bad")));
        Assert.ThrowsExactly<ArgumentException>(() => Verbalizer.Of(("0", "great"), ("1", "great")));
    }
}
