using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Synthetic;

/// <summary>Hand-labelled pairs that pin down the semantic rule, independently of the generator.</summary>
[TestClass]
public sealed class OracleTests
{
    private static readonly SyntheticTestbed Testbed = new();

    [TestMethod]
    // Entailment: dropping modifiers, generalising to the category, restating, negating a false statement.
    [DataRow("the big old dog sees the small cat", "the dog sees the cat", NliLabels.Entailment)]
    [DataRow("the big old dog sees the small cat", "the old dog sees the small cat", NliLabels.Entailment)]
    [DataRow("the big dog sees the cat", "the big animal sees the cat", NliLabels.Entailment)]
    [DataRow("the big dog sees the cat", "the big dog sees the cat", NliLabels.Entailment)]
    [DataRow("the dog sees the cat", "the cat does not see the dog", NliLabels.Entailment)]
    [DataRow("the dog sees the cat", "the dog does not chase the cat", NliLabels.Entailment)]
    // Contradiction: antonym, role swap, negation, other verb (one event per scene), absent referent.
    [DataRow("the big dog sees the cat", "the small dog sees the cat", NliLabels.Contradiction)]
    [DataRow("the big dog sees the cat", "the cat sees the dog", NliLabels.Contradiction)]
    [DataRow("the big dog sees the small dog", "the small dog sees the big dog", NliLabels.Contradiction)]
    [DataRow("the big dog sees the cat", "the dog does not see the cat", NliLabels.Contradiction)]
    [DataRow("the dog sees the cat", "the dog chases the cat", NliLabels.Contradiction)]
    [DataRow("the dog sees the cat", "the dog sees the bird", NliLabels.Contradiction)]
    [DataRow("the dog sees the cat", "the person sees the cat", NliLabels.Contradiction)]
    // A negated claim about a referent that may not exist is never true: contradiction, not neutral.
    [DataRow("the dog sees the cat", "the big dog does not see the cat", NliLabels.Contradiction)]
    // Neutral: an attribute the premise leaves open, or a species behind a category word.
    [DataRow("the big dog sees the cat", "the big dog sees the old cat", NliLabels.Neutral)]
    [DataRow("the big dog sees the cat", "the big happy dog sees the cat", NliLabels.Neutral)]
    [DataRow("the animal sees the cat", "the dog sees the cat", NliLabels.Neutral)]
    [DataRow("the animal sees the cat", "the animal sees the cat", NliLabels.Entailment)]
    // Both entities fit "the dog": swapping identical descriptions is still the same event.
    [DataRow("the dog sees the dog", "the dog sees the dog", NliLabels.Entailment)]
    [DataRow("the big dog sees the small dog", "the dog does not see the dog", NliLabels.Entailment)]
    public void OracleLabelsHandWrittenPairs(string premise, string hypothesis, string expected)
    {
        var en = Testbed.English;
        Assert.AreEqual(expected, NliOracle.Label(Testbed.Grammar, en.Parse(premise), en.Parse(hypothesis)));
    }

    [TestMethod]
    public void NegatedPremiseIsRejected()
    {
        var en = Testbed.English;
        Assert.ThrowsExactly<ArgumentException>(() => Testbed.Label(en.Parse("the dog does not see the cat"), en.Parse("the dog sees the cat")));
    }
}
