/**
 * The most common passwords, from the well-known public top lists (the RockYou leak's head,
 * SplashData's and NordPass's yearly lists, the UK NCSC's top 100,000, keyboard walks): NIST SP
 * 800-63B asks that a new password be checked against such a list. It is small on purpose
 * (about 640 entries, a few kilobytes): what attackers try first, not a full breach corpus.
 * Lower-case, sorted, unique; compare a lower-cased password against it.
 */

/** Sorted, lower-case, one per word (none contains a space). */
const LIST = `
0000 000000 0000000 00000000 0987654321 101010 1111 11111 111111 1111111 11111111 1111111111 112233
112233445566 121212 121314 123123 123123123 123321 1234 123412 12341234 12344321 12345 1234554321
123456 1234561 123456123 1234567 12345678 123456789 1234567890 12345678910 123456789a 123456a
123456q 1234abcd 1234qwer 123654 123abc 123qwe 123qweasd 12qwaszx 131313 147258 147258369 159357
159753 1q2w3e 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx 1qaz2wsx3edc 1qazxsw2 2000 222222 232323
258456 333333 55555 555555 654321 666666 696969 741852963 7777 777777 7777777 789456 8675309
87654321 888888 88888888 963852741 987654 987654321 999999 a12345 a123456 aa123456 aaaaaa aaaaaaaa
abc123 abc12345 abcabc abcd1234 abcdef abcdefg abcdefgh access access1 adidas admin admin1 admin123
admin1234 administrator administrator1 adrian alejandra alejandro alexander alyssa amanda amanda1
america andrea andrew andrew1 angel angel1 angel123 angela angels anthony anthony1 antonio apple
apples arsenal arsenal1 asdasd asdf asdf1234 asdfasdf asdfgh asdfghjkl ashley ashley1 austin
avengers azerty azertyuiop baby babyboy babygirl babygirl1 babygurl badboy bailey banana banana1
barbie barcelona barney baseball baseball1 basketball batman batman1 beautiful beauty bigdick bigdog
biteme blessed blessing blink182 bond007 booboo booger boomer boston brandon brandy brittany brother
bubbles bulldog buster butter butterfly butterfly1 camaro canada carlos carolina casper changeme
changeme1 charles charlie charlie1 cheese cheese1 chelsea chelsea1 cherry chester chicago chicken
chocolate chocolate1 chris christian cocacola coffee coffee1 compaq computer computer1 cookie
cookie1 cooper corazon corvette cowboy cowboys cristina crystal cupcake daddy dakota dallas dancer
daniel daniel1 danielle december default demo123 dennis destiny destiny1 diablo diamond dolphin
dolphin1 dragon dragon1 dragonball ducati eagles edcrfv edward elizabeth eminem enter estrella
facebook faith falcon family family1 father fender fernando ferrari ferrari1 fishing flower flower1
fluffy football football1 football12 forever fortnite freedom freedom1 friends fuckyou gabriel
gabriela gamer gandalf gateway gemini george gfhjkm ghbdtn ginger god godisgood golden golden1
golfer golfer1 google grace guest guest123 guitar hammer hannah hannah1 hardcore harley harley1
heather heaven heaven1 hello hello1 hello123 hellokitty hockey hockey1 honda honey honey1 hotmail
hottie hunter hunter2 iceman iloveme iloveu iloveyou iloveyou1 iloveyou2 internet internet1 iphone
ironman jackie jackson james jasmine jasmine1 jasper jeffrey jennifer jennifer1 jeremy jessica
jessica1 jesus jesus1 johnny jonathan jordan jordan1 jordan23 joseph joshua joshua1 junior justin
justin1 juventus kevin killer killer1 kimberly kisses kitten kitty klaster knight lakers lakers1
lauren lauren1 legend letmein letmein1 letmein123 liverpool liverpool1 lkjhgfdsa login london louise
love love123 lovelove lovely loveme lovers loveyou madison maggie mahalkita manchester manuel maria
marina marine mariposa marlboro martin marvel master master1 master123 matrix matrix1 matthew
matthew1 maverick melissa mercedes mercedes1 merlin michael michael1 michael23 michelle michelle1
mickey microsoft midnight miguel mike milan miller minecraft mnbvcxz mommy money monica monkey
monkey1 monkey123 monster morgan mother mother1 muffin muffin1 murphy mustang mustang1 mylove mypass
mypassword myspace naruto naruto1 nascar natasha nathan ncc1701 nicholas nicole nicole1 nikita ninja
nintendo november october oliver onepiece orange orange1 p@ssw0rd p@ssword pa55word pamela panther
panties pass pass123 pass1234 passpass passw0rd password password01 password1 password12 password123
password2 patricia patrick peaches peanut pepper phoenix pikachu pizza player playstation please
poiuytrewq pokemon pokemon1 poohbear porsche porsche1 prince princesa princess princess1 puppy
purple purple1 pussycat q1w2e3r4 q1w2e3r4t5 qazwsx qazwsx123 qazwsxedc qazxsw qqqqqq qwaszx qwe123
qwe123qwe qweasd qweasdzxc qweqwe qwer1234 qwerty qwerty1 qwerty12 qwerty123 qwertyu qwertyuiop
qwertz qwertzuiop rabbit rachel raiders rainbow ranger rangers realmadrid rebelde redsox ricardo
richard robert robert1 roblox rocket rockyou root root123 sakura samantha samsung samurai sandra
sayang scooby scooby1 scooter secret secret1 secret123 september sexy sexygirl shadow shadow1
shannon shorty silver silver1 sister slayer smokey snoopy snoopy1 soccer soccer1 softball sophie
sophie1 sparky spider spiderman spongebob starwar starwars starwars1 steelers stephanie steven
summer summer1 sunny sunshine sunshine1 superman superman1 superstar sweetie sweety taylor teamo
temp123 tennis tennis1 tequiero test test1 test12 test123 test1234 testing thomas thomas1 thunder
thx1138 tiger tiger1 tigers tigger tinkerbell toor toyota toyota1 trinity trustno1 turtle user123
vanessa vegeta victoria warrior welcome welcome1 welcome123 welcome2 whatever whatever1 william
william1 winner winston winter winter1 wizard wsxedc xbox360 xxxxxx yamaha yankees yankees1 yellow
yellow1 youtube ytrewq zaq12wsx zaq1xsw2 zaq1zaq1 zxcvbn zxcvbnm zxcvbnm1 zzzzzz
`;

export const COMMON_PASSWORDS_SORTED: readonly string[] = Object.freeze(LIST.trim().split(/\s+/));

export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(COMMON_PASSWORDS_SORTED);
