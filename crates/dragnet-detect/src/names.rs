//! Person-name evidence without a language model: a dictionary of common given names.
//!
//! The list is the most frequent given names of the US Social Security Administration's
//! public baby-name data and the 1990 US census, plus common Hispanic, European and Asian
//! given names. The catalog issue will replace it with the full frequency lists shipped as
//! data; this set is what the first NAME identifier needs.

use std::collections::HashSet;
use std::sync::OnceLock;

const GIVEN_NAMES: &str = "
aaron abby abdul abel abigail abraham ada adam adan adela adele adolfo adrian adriana agnes agustin ahmed aida aimee aisha alan alba albert alberto alda alejandra alejandro alex alexa alexander alexandra alexis alfonso alfred alfredo ali alice alicia alina alisha alison allan allen allison alma alonzo alvaro alvin alyssa amalia amanda amber amelia amos amparo amy ana andre andrea andres andrew andy angel angela angelica angelina angelo angie anibal anita ann anna anne annette annie anthony antonia antonio april araceli archie ariel arlene armando arnold arthur arturo ashley audrey aurelio aurora austin ava barbara barry basil beatrice beatriz becky belinda ben benito benjamin bernard bernardo bernice bertha beth betsy betty beverly bill billy blanca bob bobby bonnie boyd brad bradley brandon brenda brent brett brian bridget britney brittany brooke bruce bruno bryan byron caleb calvin camila camille candace cara carl carla carlos carmen carol carole caroline carolyn carrie casey cassandra catalina catherine cathy cecil cecilia cesar chad charlene charles charlie charlotte chase chelsea cheryl chester chloe chris christian christina christine christopher cindy claire clara clarence claudia clay clayton clifford clinton clyde cody colin colleen connie constance consuelo cora corey cornelius courtney craig cristina crystal curtis cynthia daisy dale dallas damon dan dana daniel daniela danielle danny darla darlene darrell darren darryl daryl dave david dawn dean deanna debbie deborah debra delia della delores denise dennis derek derrick desiree devin diana diane dianne diego dolores dominic don donald donna dora doris dorothy doug douglas duane dustin dwayne dylan earl ed eddie edgar edith edna eduardo edward edwin eileen elaine eleanor elena eli elias elijah elisa elizabeth ella ellen elliot elmer eloise elsa elsie elvira emanuel emil emilia emilio emily emma emmanuel enrique eric erica erick erik erika erin ernest ernesto esperanza esteban estela esther ethan eugene eunice eva evan evelyn everett fabian faith fatima faye federico felicia felipe felix fernando flora florence floyd frances francis francisco frank franklin fred freda frederick gabriel gabriela gail gary gavin gene geneva george georgia gerald geraldine gerardo gertrude gilbert gilberto gina ginger giovanni gladys glen glenda glenn gloria gonzalo gordon grace graciela grant greg gregorio gregory guadalupe guillermo gustavo guy gwen hailey hannah harold harriet harry harvey hazel heather hector heidi helen henry herbert herman hilda holly homer hope horace howard hugh hugo ian ignacio ines ingrid irene iris irma isaac isabel isabella isaiah ismael israel ivan jack jackie jackson jacob jacqueline jaime jake james jamie jan jane janet janice jared jasmine jason javier jay jean jeanette jeanne jeff jeffery jeffrey jenna jennifer jenny jeremiah jeremy jerome jerry jesse jessica jessie jesus jill jim jimmy jo joan joann joanna joanne joaquin jodi joe joel johanna john johnny jon jonathan jordan jorge jose josefina joseph josephine joshua joy joyce juan juana juanita judith judy julia julian juliana julie julio june justin kara karen kari karina karl kate katherine kathleen kathryn kathy katie katrina kay kayla keith kelly kelvin ken kendra kenneth kent kerry kevin kim kimberly kirk krista kristen kristin kristina kristine kurt kyle lacey lana lance larry laura lauren laurie lawrence leah lee lena leo leon leonard leonardo leroy leslie lester leticia lewis lillian lily linda lindsay lindsey lisa lloyd logan lois lonnie lora lorena lorenzo loretta lori lorraine louis louise lucas lucia lucille lucy luis luke lupe luz lydia lynn mabel madeline madison magdalena maggie malcolm mandy manuel marc marcela marcia marco marcos marcus margaret margarita maria mariah marian mariana marie marilyn mario marion marisol marissa marjorie mark marlene marsha marshall martha martin marvin mary mason mateo matilde matthew mattie maureen maurice max maxine may megan melanie melinda melissa melvin mercedes meredith mia michael micheal michele michelle miguel mike mildred milo milton mindy miranda miriam misty mitchell molly monica monique morgan moses muriel myrtle nadia nancy naomi natalia natalie nathan nathaniel neil nellie nelson nicholas nicole noah noel nora norma norman olga oliver olivia omar orlando oscar pablo paige pam pamela pat patricia patrick patsy patty paul paula pauline pearl pedro peggy penny percy perry pete peter phil philip phyllis priscilla rachel rafael ralph ramiro ramon ramona randall randy raquel raul ray raymond rebecca regina reginald renee rene reuben rex ricardo richard rick ricky rita rob robert roberta roberto robin rochelle rodney rodolfo rodrigo roger roland rolando ron ronald ronnie rosa rosalie rosario rose rosemary ross roxanne roy ruben ruby rudy russell ruth ryan sabrina sadie sally salvador sam samantha samuel sandra sandy santiago sara sarah saul scott sean sebastian sergio seth shane shannon sharon shawn sheila shelby shelly sherri sherry shirley sidney silvia simon socorro sofia sonia sophia stacey stacy stanley stella stephanie stephen steve steven sue susan susana suzanne sylvia tamara tammy tanya tara ted teresa terrance terri terry thelma theodore theresa thomas tiffany tim timothy tina todd tom tomas tommy toni tony tracey traci tracy travis trevor troy tyler valentina valerie vanessa velma vera veronica vicente vicki victor victoria vincent viola violet virginia vivian wade wallace walter wanda warren wayne wendy wesley whitney willard william willie wilma winston xavier yesenia yolanda yvonne zachary zoe
wei li ming jun hui yan hiroshi yuki kenji akira mohammed muhammad fatma aditya priya rahul anil sunil raj deepak pooja
";

fn given_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| GIVEN_NAMES.split_whitespace().collect())
}

/// Whether `word` (any case, accents kept, trailing digits ignored as in Synthea's generated
/// names like `Tomas436`) is a known given name.
pub fn is_given_name(word: &str) -> bool {
    let w = word.trim_end_matches(|c: char| c.is_ascii_digit());
    if w.is_empty() || w.len() > 20 {
        return false;
    }
    let lower = w.to_lowercase();
    given_names().contains(lower.as_str())
        || given_names().contains(crate::keywords::strip_accents(&lower).as_str())
}

/// Words that mark an organisation, place or thing rather than a person.
const NOT_PERSON_WORDS: &[&str] = &[
    "inc",
    "llc",
    "ltd",
    "corp",
    "co",
    "company",
    "hospital",
    "hospitals",
    "center",
    "centre",
    "clinic",
    "health",
    "medical",
    "care",
    "group",
    "services",
    "associates",
    "university",
    "school",
    "street",
    "avenue",
    "road",
    "county",
    "city",
    "state",
    "bank",
    "insurance",
    "parish",
    "township",
    "borough",
    "village",
    "island",
    "islands",
    "province",
    "district",
    "republic",
    "kingdom",
    "saint",
    "eligible",
];

/// The `NAME` validator: a full name that is a word of its own, not glued to a preceding
/// hyphen, slash, dot or apostrophe (so the "Ray Image" of "X-Ray Image" is not a name).
pub fn full_name(text: &[u8], m: std::ops::Range<usize>) -> bool {
    let glued =
        m.start > 0 && matches!(text[m.start - 1], b'-' | b'/' | b'.' | b'\'' | b'_' | b'@');
    !glued && is_full_name(&String::from_utf8_lossy(&text[m]))
}

/// Full-name check for a candidate: a known given name first, then one to three name words,
/// none of which marks an organisation.
pub fn is_full_name(candidate: &str) -> bool {
    let words: Vec<&str> = candidate
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let first = words[0].trim_end_matches('.');
    let start = if matches!(
        first.to_ascii_lowercase().as_str(),
        "mr" | "mrs" | "ms" | "dr" | "miss" | "prof"
    ) {
        1
    } else {
        0
    };
    if words.len() - start < 2 || !is_given_name(words[start]) {
        return false;
    }
    !words.iter().any(|w| {
        let lw = w
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
            .to_lowercase();
        NOT_PERSON_WORDS.contains(&lw.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_names_and_full_names() {
        assert!(is_given_name("Maria"));
        assert!(is_given_name("Tomas436"));
        assert!(is_given_name("José"));
        assert!(!is_given_name("Hospital"));
        assert!(is_full_name("John Smith"));
        assert!(is_full_name("Dr. Jane Doe"));
        assert!(is_full_name("Tomas436 Sauer652"));
        assert!(!is_full_name("Dual Eligible"));
        assert!(!is_full_name("John"));
        assert!(!is_full_name("Mary Health Center"));
    }
}
