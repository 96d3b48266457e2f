# Oracle for tests/test_rounds.py: the change between two survey rounds and the difference in
# differences (arm x round), with R survey, on one design holding both rounds.
# Usage: Rscript survey_rounds.R input.csv output.csv design
#   design = "revisited": strata = ~stratum, ids = ~psu (clusters visited in both rounds share their ids,
#            so the rounds' estimates covary through them);
#   design = "independent": strata and PSUs of each round their own (~stratum_round, ~psu_round).
# Output: one row per number, key = "<quantity>|<dom>", value at full precision.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$dom <- as.character(d$dom)
d$stratum_round <- paste(d$round, d$stratum, sep = ":")
d$psu_round <- paste(d$round, d$psu, sep = ":")
des <- if (args[3] == "revisited") {
  svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d)
} else {
  svydesign(ids = ~psu_round, strata = ~stratum_round, weights = ~w, data = d)
}
rows <- list()
put <- function(quantity, dom, value) {
  rows[[length(rows) + 1]] <<- data.frame(key = paste(quantity, dom, sep = "|"), value = unname(as.numeric(value)))
}
answered <- subset(des, !is.na(y))

# -- change: follow-up minus baseline, svyby(~y, ~round) + svycontrast; svychisq(~y + round)
change <- function(b, prefix, sub, dom) {
  one <- paste0(prefix, "baseline")
  two <- paste0(prefix, "followup")
  contrast <- svycontrast(b, setNames(c(-1, 1), c(one, two)))
  put("change", dom, coef(contrast))
  put("change_se", dom, SE(contrast))
  chi <- svychisq(~y + round, sub, statistic = "F")
  put("change_p", dom, chi$p.value)
}
change(svyby(~y, ~round, answered, svymean, covmat = TRUE), "", answered, "all")
by_dom <- svyby(~y, ~dom + round, answered, svymean, covmat = TRUE)
for (g in sort(unique(d$dom))) change(by_dom, paste0(g, "."), subset(des, dom == g & !is.na(y)), g)

# -- difference in differences: (a2 - a1) - (b2 - b1), arm a = "c2p", b = "none"
did <- function(b, prefix, dom) {
  cell <- function(arm, round) paste0(prefix, arm, ".", round)
  names <- c(cell("c2p", "baseline"), cell("c2p", "followup"), cell("none", "baseline"), cell("none", "followup"))
  contrast <- svycontrast(b, setNames(c(-1, 1, 1, -1), names))
  put("did", dom, coef(contrast))
  put("did_se", dom, SE(contrast))
  logit <- sprintf("log(`%s`/(1-`%s`))", names, names)
  expr <- parse(text = sprintf("(%s - %s) - (%s - %s)", logit[2], logit[1], logit[4], logit[3]))[[1]]
  contrast <- svycontrast(b, expr)
  put("did_logit", dom, coef(contrast))
  put("did_logit_se", dom, SE(contrast))
}
did(svyby(~y, ~arm + round, answered, svymean, covmat = TRUE), "", "all")
by_dom <- svyby(~y, ~dom + arm + round, answered, svymean, covmat = TRUE)
for (g in sort(unique(d$dom))) did(by_dom, paste0(g, "."), g)
# second route: the interaction of the saturated linear model, svyglm(y ~ c2p * followup)
glm_design <- update(answered, c2p = as.numeric(arm == "c2p"), followup = as.numeric(round == "followup"))
fit <- svyglm(y ~ c2p * followup, glm_design)
put("glm_did", "all", coef(fit)[["c2p:followup"]])
put("glm_did_se", "all", SE(fit)[["c2p:followup"]])
fit <- svyglm(y ~ c2p * followup, subset(glm_design, dom == "a"))
put("glm_did", "a", coef(fit)[["c2p:followup"]])
put("glm_did_se", "a", SE(fit)[["c2p:followup"]])

write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
