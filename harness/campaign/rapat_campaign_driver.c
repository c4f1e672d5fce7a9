/* rapat_campaign_driver.c — a stand-alone `rapat-campaign CAMPAIGN.lua ...` for tests until bin/rapat dispatches `campaign`. */
#include "harness/campaign/hx_campaign.h"

int main(int argc, char **argv)
{
	argv[0] = "campaign";
	return hx_campaign_main(argc, argv);
}
