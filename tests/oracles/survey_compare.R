# Oracle for tests/test_design.py: sex gaps (svyby + svycontrast, svyglm), Rao-Scott F tests (svychisq),
# and means/totals of numeric variables (svymean, svytotal, svyby, svyratio, confint) with R survey.
# Usage: Rscript survey_compare.R input.csv output.csv lonely_psu_option [fpc]
# Output: one row per number, key = "<quantity>|<variable>|<dom>|<sex>", value at full precision.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = args[3])
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$dom <- as.character(d$dom)
des <- if (length(args) > 3 && args[4] == "fpc") {
  svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc, data = d)
} else {
  svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d)
}
rows <- list()
put <- function(quantity, variable, dom, sex, value) {
  rows[[length(rows) + 1]] <<- data.frame(key = paste(quantity, variable, dom, sex, sep = "|"),
                                          value = unname(as.numeric(value)))
}

# -- gaps: girls (F) minus boys (M) of y, per dom and overall ---------------------------------
# svyby(~y, ~dom + sex, subset(des, !is.na(y)), svymean, covmat = TRUE) then svycontrast(F - M),
# svycontrast(log(F) - log(M)); svychisq(~y + sex, subset(des, dom == . & !is.na(y)), statistic = "F")
gap <- function(b, prefix, sub, dom) {
  f <- paste0(prefix, "F")
  m <- paste0(prefix, "M")
  if (!all(c(f, m) %in% names(coef(b)))) return(invisible())
  diff <- svycontrast(b, setNames(c(1, -1), c(f, m)))
  put("difference", "y", dom, "", coef(diff))
  put("difference_se", "y", dom, "", SE(diff))
  logratio <- svycontrast(b, parse(text = sprintf("log(`%s`) - log(`%s`)", f, m))[[1]])
  put("log_ratio", "y", dom, "", coef(logratio))
  put("log_ratio_se", "y", dom, "", SE(logratio))
  # svychisq stops when y or sex takes a single value in the domain (no 2x2 table); report nothing then
  chi <- tryCatch(svychisq(~y + sex, sub, statistic = "F"), error = function(e) NULL)
  if (is.null(chi)) return(invisible())
  put("f_statistic", "y", dom, "", chi$statistic)
  put("df_num", "y", dom, "", chi$parameter[["ndf"]])
  put("df_den", "y", dom, "", chi$parameter[["ddf"]])
  put("p_value", "y", dom, "", chi$p.value)
}
# (svyby with covmat = TRUE fails with na.rm = TRUE when y has NAs; a subset keeps the full design's
# PSU counts, so it is the same domain estimation)
answered <- subset(des, !is.na(y))
b <- svyby(~y, ~dom + sex, answered, svymean, covmat = TRUE)
for (g in sort(unique(d$dom))) {
  gap(b, paste0(g, "."), subset(des, dom == g & !is.na(y)), g)
}
gap(svyby(~y, ~sex, answered, svymean, covmat = TRUE), "", answered, "all")
# second route for the difference: svyglm(y ~ girl, subset(des, dom == "a" & !is.na(y)))
d$girl <- as.numeric(d$sex == "F")
des_glm <- update(des, girl = as.numeric(sex == "F"))
fit <- svyglm(y ~ girl, subset(des_glm, dom == "a" & !is.na(y)))
put("glm_difference", "y", "a", "", coef(fit)[["girl"]])
put("glm_difference_se", "y", "a", "", SE(fit)[["girl"]])

# -- means and totals: svymean / svytotal, svyby over dom, sex, dom + sex --------------------------
# confint(..., df = degf(des)) for the t interval
for (v in c("age", "doses")) {
  f <- as.formula(paste0("~", v))
  for (stat in c("mean", "total")) {
    fun <- if (stat == "mean") svymean else svytotal
    m <- fun(f, des, na.rm = TRUE)
    ci <- confint(m, df = degf(des))
    put(stat, v, "all", "all", coef(m))
    put(paste0(stat, "_se"), v, "all", "all", SE(m))
    put(paste0(stat, "_ci_low"), v, "all", "all", ci[1, 1])
    put(paste0(stat, "_ci_high"), v, "all", "all", ci[1, 2])
    for (byf in list(~dom, ~sex, ~dom + sex)) {
      bb <- svyby(f, byf, des, fun, na.rm = TRUE)
      ci <- confint(bb, df = degf(des))
      dom <- if ("dom" %in% names(bb)) bb$dom else rep("all", nrow(bb))
      sex <- if ("sex" %in% names(bb)) bb$sex else rep("all", nrow(bb))
      for (i in seq_len(nrow(bb))) {
        put(stat, v, dom[i], sex[i], coef(bb)[[i]])
        put(paste0(stat, "_se"), v, dom[i], sex[i], SE(bb)[[i]])
        put(paste0(stat, "_ci_low"), v, dom[i], sex[i], ci[i, 1])
        put(paste0(stat, "_ci_high"), v, dom[i], sex[i], ci[i, 2])
      }
    }
  }
}
# ratio-estimator route for a domain mean: svyratio(~age_in_a, ~in_a, des) on the full design
des_ratio <- update(des, in_a = as.numeric(dom == "a" & !is.na(age)),
                    age_in_a = ifelse(dom == "a" & !is.na(age), age, 0))
r <- svyratio(~age_in_a, ~in_a, des_ratio)
put("ratio_mean", "age", "a", "all", coef(r))
put("ratio_mean_se", "age", "a", "all", SE(r))
put("degf", "", "", "", degf(des))
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
